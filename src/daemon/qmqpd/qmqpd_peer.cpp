// qmqpd(8)'s client identification (qmqpd_peer.h).
//
// Trust: the peer address comes from the kernel; the reverse name from
// DNS or /etc/hosts, checked by a forward lookup.
#include "daemon/qmqpd/qmqpd_peer.h"

#include "mail/address_hostaddr.h"
#include "util/msg.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace pf::qmqpd {

namespace {

std::string numeric_host(const sockaddr* sa, socklen_t len) {
    char host[NI_MAXHOST] = "";
    if (getnameinfo(sa, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return "unknown";
    return host;
}

bool same_address(const sockaddr* a, const sockaddr_storage& b) {
    if (a->sa_family != b.ss_family) return false;
    if (a->sa_family == AF_INET)
        return std::memcmp(&reinterpret_cast<const sockaddr_in*>(a)->sin_addr,
                           &reinterpret_cast<const sockaddr_in*>(&b)->sin_addr, sizeof(in_addr)) == 0;
    if (a->sa_family == AF_INET6)
        return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr,
                           &reinterpret_cast<const sockaddr_in6*>(&b)->sin6_addr, sizeof(in6_addr)) == 0;
    return false;
}

}  // namespace

Peer lookup_peer(int fd, bool port_logging) {
    Peer p;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    errno = 0;
    bool got = getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0;
    if (!got && errno != ENOTSOCK) {
        // The peer went away: everything "unknown".
    } else if (got && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
        if (ss.ss_family == AF_INET) {
            p.port = std::to_string(ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port));
        } else {
            p.port = std::to_string(ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port));
        }
        p.addr = numeric_host(reinterpret_cast<sockaddr*>(&ss), len);
        p.family = ss.ss_family;
        p.rfc_addr = p.addr;
        if (ss.ss_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
            if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
                sockaddr_in v4{};
                v4.sin_family = AF_INET;
                v4.sin_port = sin6->sin6_port;
                std::memcpy(&v4.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
                std::memset(&ss, 0, sizeof ss);
                std::memcpy(&ss, &v4, sizeof v4);
                len = sizeof v4;
                p.addr = p.rfc_addr = numeric_host(reinterpret_cast<sockaddr*>(&ss), len);
                p.family = AF_INET;
            } else {
                p.rfc_addr = "IPv6:" + p.addr;
            }
        }
        char host[NI_MAXHOST];
        if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr, 0, NI_NAMEREQD) != 0 ||
            mail::valid_hostaddr(host, false)) {
            p.name = "unknown";
        } else {
            p.name = host;
            addrinfo hints{};
            hints.ai_family = p.family;
            hints.ai_socktype = SOCK_STREAM;
            addrinfo* res = nullptr;
            int rc = getaddrinfo(host, nullptr, &hints, &res);
            if (rc != 0) {
                util::msg_warn("hostname {} does not resolve to address {}: {}", p.name, p.addr, gai_strerror(rc));
                p.name = "unknown";
            } else {
                bool found = false;
                for (addrinfo* ai = res; ai && !found; ai = ai->ai_next) found = same_address(ai->ai_addr, ss);
                freeaddrinfo(res);
                if (!found) {
                    // The reference names the two the other way round here.
                    util::msg_warn("hostname {} does not resolve to address {}", p.addr, p.name);
                    p.name = "unknown";
                }
            }
        }
    } else {
        p.name = "localhost";
        p.addr = p.rfc_addr = "127.0.0.1";
        p.family = 0;
        p.port = "0";
    }
    p.namaddr = p.name + "[" + p.addr + "]" + (port_logging ? ":" + p.port : std::string());
    return p;
}

}  // namespace pf::qmqpd
