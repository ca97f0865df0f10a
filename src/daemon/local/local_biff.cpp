// comsat notices (local_biff.h).
#include "local_biff.h"

#include "util/msg.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::local {

namespace {

// The biff/udp address on localhost, resolved on first use.
struct BiffTarget {
    bool ready = false;
    sockaddr_in addr{};
};

bool resolve(BiffTarget& t) {
    if (t.ready) return true;
    const servent* sp = ::getservbyname("biff", "udp");
    if (!sp) {
        util::msg_warn("service not found: biff/udp");
        return false;
    }
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo("localhost", nullptr, &hints, &res) != 0 || !res) {
        util::msg_warn("host not found: localhost");
        return false;
    }
    std::memcpy(&t.addr, res->ai_addr, sizeof(t.addr));
    ::freeaddrinfo(res);
    t.addr.sin_family = AF_INET;
    t.addr.sin_port = static_cast<in_port_t>(sp->s_port);
    t.ready = true;
    return true;
}

}  // namespace

std::string biff_message(std::string_view logname, off_t offset) {
    std::string text = fmt::format("{}@{}", logname, static_cast<long long>(offset));
    text.push_back('\0');
    return text;
}

void biff_notify(std::string_view logname, off_t offset) {
    static BiffTarget target;
    static int sock = -1;
    if (!resolve(target)) return;
    if (sock < 0) {
        // Kept for the life of the process, as the reference keeps it.
        sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0) {
            util::msg_warn("socket: {}", std::strerror(errno));
            return;
        }
    }
    const std::string text = biff_message(logname, offset);
    ssize_t n = ::sendto(sock, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&target.addr),
                         sizeof(target.addr));
    if (n != static_cast<ssize_t>(text.size())) util::msg_warn("biff_notify: {}", std::strerror(errno));
}

}  // namespace pf::local
