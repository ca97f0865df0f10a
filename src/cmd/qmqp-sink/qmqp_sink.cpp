// qmqp-sink(1): a QMQP server that throws mail away, as the reference's
// test program behaves: it listens on "[inet:][host]:port" or
// "unix:path" with the given backlog, serves any number of clients at
// once, reads the length of each request's outer netstring and then just
// counts that many bytes (the terminator included, not checked), and
// answers K "Ok" ("3:KOk,"). A request whose length is malformed or
// overlong, or a client that leaves before the length is complete, is
// dropped with the warning "netstring format error", "netstring size
// error" or "lost connection". -c prints a running count ("N\r"), -v the
// address family of each client and the listening address, -v -v also
// the lengths read and the replies; -x stops the program after that many
// seconds.
//
// Trust: the command line is the user's; clients are hostile (their
// lengths are parsed with overflow checks, their bytes not kept).
#include "mail/address_hostaddr.h"
#include "mail/address_idna.h"
#include "util/msg.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace pf;

[[noreturn]] void usage(const char* argv0) {
    util::msg_fatal("usage: {} [-cv] [-x time] [host]:port backlog", argv0);
}

std::string errno_text() { return std::strerror(errno); }

// "host:port", ":port", "port", "[host]:port" with an empty default host
// and no default port (the reference's host_port() as its listeners use
// it); an error text or nullptr.
const char* listen_host_port(const std::string& buf, std::string& host, std::string& port) {
    if (!buf.empty() && buf[0] == '[') {
        std::string rest = buf.substr(1);
        if (rest.size() >= 5 && strncasecmp(rest.c_str(), "IPv6:", 5) == 0) rest.erase(0, 5);
        std::size_t close = rest.find(']');
        if (close == std::string::npos) return "missing \"]\"";
        host = rest.substr(0, close);
        std::string after = rest.substr(close + 1);
        if (!after.empty() && after[0] != ':') return "garbage after \"]\"";
        if (!after.empty()) after.erase(0, 1);
        if (after.empty()) return "missing service information";
        port = after;
    } else {
        std::size_t colon = buf.rfind(':');
        if (colon != std::string::npos) {
            host = buf.substr(0, colon);
            port = buf.substr(colon + 1);
        } else {
            host.clear();
            port = buf;
        }
        if (port.empty()) return "missing service information";
    }
    if (!host.empty() && !mail::valid_utf8_hostname(false, host, false) && !mail::valid_hostaddr(host, false))
        return "valid hostname or network address required";
    if (std::isdigit(static_cast<unsigned char>(port[0])) && port.find_first_not_of("0123456789") != std::string::npos)
        return "garbage after numerical service";
    return nullptr;
}

int inet_listen(const std::string& addr, int backlog, int family) {
    std::string host, port;
    if (const char* err = listen_host_port(addr, host, port)) util::msg_fatal("{}: {}", addr, err);
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = host.empty() ? AI_PASSIVE : 0;
    addrinfo* res0 = nullptr;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res0);
    if (rc != 0) util::msg_fatal("{}: {}", addr, gai_strerror(rc));
    addrinfo* res = res0;
    char hostaddr[NI_MAXHOST] = "", portnum[NI_MAXSERV] = "";
    ::getnameinfo(res->ai_addr, res->ai_addrlen, hostaddr, sizeof hostaddr, portnum, sizeof portnum,
                  NI_NUMERICHOST | NI_NUMERICSERV);
    if (util::msg_verbose) util::msg_info("trying... [{}]:{}", hostaddr, portnum);
    int sock = ::socket(res->ai_family, res->ai_socktype, 0);
    if (sock < 0) util::msg_fatal("socket: {}", errno_text());
    int on = 1;
    if (res->ai_family == AF_INET6 && ::setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) < 0)
        util::msg_fatal("setsockopt(IPV6_V6ONLY): {}", errno_text());
    if (::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        util::msg_fatal("setsockopt(SO_REUSEADDR): {}", errno_text());
    if (::setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0)
        util::msg_fatal("setsockopt(SO_REUSEPORT): {}", errno_text());
    if (::bind(sock, res->ai_addr, res->ai_addrlen) < 0)
        util::msg_fatal("bind {} port {}: {}", hostaddr, portnum, errno_text());
    ::freeaddrinfo(res0);
    if (::listen(sock, backlog) < 0) util::msg_fatal("listen: {}", errno_text());
    return sock;
}

int unix_listen(const std::string& path, int backlog) {
    sockaddr_un sun{};
    if (path.size() >= sizeof sun.sun_path) util::msg_fatal("unix-domain name too long: {}", path);
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (sock < 0) util::msg_fatal("socket: {}", errno_text());
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) util::msg_fatal("remove {}: {}", path, errno_text());
    if (::bind(sock, reinterpret_cast<sockaddr*>(&sun), sizeof sun) < 0)
        util::msg_fatal("bind: {}: {}", path, errno_text());
    if (::fchmod(sock, 0666) < 0) util::msg_fatal("fchmod socket {}: {}", path, errno_text());
    if (::listen(sock, backlog) < 0) util::msg_fatal("listen: {}", errno_text());
    return sock;
}

struct Client {
    bool have_length = false;
    bool any_digit = false;
    std::int64_t length = 0;
    std::int64_t to_go = 0;   // bytes of payload and terminator still to come
};

class Sink {
public:
    // The reference's event loop holds an epoll descriptor, opened after
    // the listener: one is kept here too, so that client descriptors (in
    // the -v output) have the same numbers.
    Sink(int listener, bool count)
        : listener_(listener), count_(count), event_fd_(::epoll_create1(EPOLL_CLOEXEC)) {}
    [[noreturn]] void run(int ttl);

private:
    void accept_client();
    // False when the client is done (dropped or answered).
    bool read_client(int fd, Client& c);
    void reply(int fd);

    int listener_;
    bool count_;
    int event_fd_;
    int counter_ = 0;
    std::map<int, Client> clients_;
};

void Sink::accept_client() {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept(listener_, reinterpret_cast<sockaddr*>(&ss), &len);
    if (fd < 0) return;
    if (util::msg_verbose)
        util::msg_info("connect ({})", ss.ss_family == AF_UNIX    ? "AF_LOCAL"
                                       : ss.ss_family == AF_INET  ? "AF_INET"
                                       : ss.ss_family == AF_INET6 ? "AF_INET6"
                                                                  : "unknown protocol family");
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
        // The reference's stream layer with -v: the MSS, and a buffer of
        // four times that when it is more than a quarter of 4096 bytes.
        int mss = 0;
        socklen_t mlen = sizeof mss;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &mlen) < 0 && errno != ECONNRESET) {
            util::msg_warn("vstream_tweak_tcp: getsockopt TCP_MAXSEG: {}", errno_text());
        } else if (util::msg_verbose) {
            util::msg_info("vstream_tweak_tcp: TCP_MAXSEG {}", mss);
            if (mss > 4096 / 4) util::msg_info("fd={}: stream buffer size old=0 new={}", fd, static_cast<long>(mss) * 4);
        }
    }
    clients_[fd] = Client{};
}

void Sink::reply(int fd) {
    if (util::msg_verbose > 1) util::msg_info("netstring_put: write netstring len 3 data KOk");
    static constexpr std::string_view kReply = "3:KOk,";
    (void)!::write(fd, kReply.data(), kReply.size());
    if (count_) {
        ++counter_;
        std::printf("%d\r", counter_);
        std::fflush(stdout);
    }
}

bool Sink::read_client(int fd, Client& c) {
    char buf[8192];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) {
        if (!c.have_length) util::msg_warn("lost connection");
        return false;
    }
    std::size_t i = 0;
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    while (!c.have_length && i < static_cast<std::size_t>(n)) {
        unsigned char ch = static_cast<unsigned char>(buf[i++]);
        if (ch == ':') {
            c.have_length = true;
            if (util::msg_verbose > 1) util::msg_info("netstring_get_length: read netstring length {}", c.length);
            c.to_go = c.length < kMax ? c.length + 1 : kMax;
            break;
        }
        if (ch < '0' || ch > '9') {
            util::msg_warn("netstring format error");
            return false;
        }
        int digit = ch - '0';
        if (c.length > kMax / 10 || c.length * 10 > kMax - digit) {
            util::msg_warn("netstring size error");
            return false;
        }
        c.length = c.length * 10 + digit;
    }
    if (!c.have_length) return true;
    c.to_go -= static_cast<std::int64_t>(n - i);
    if (c.to_go <= 0) {
        reply(fd);
        return false;
    }
    return true;
}

void Sink::run(int ttl) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(ttl);
    for (;;) {
        std::vector<pollfd> fds;
        fds.push_back({listener_, POLLIN, 0});
        for (auto& [fd, c] : clients_) fds.push_back({fd, POLLIN, 0});
        int timeout = -1;
        if (ttl > 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                            .count();
            if (left <= 0) std::exit(0);
            timeout = static_cast<int>(left);
        }
        int n = ::poll(fds.data(), fds.size(), timeout);
        if (n < 0 && errno != EINTR) util::msg_fatal("poll: {}", errno_text());
        if (n <= 0) continue;
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (fds[i].revents == 0) continue;
            int fd = fds[i].fd;
            if (!read_client(fd, clients_[fd])) {
                ::close(fd);
                clients_.erase(fd);
            }
        }
        if (fds[0].revents) accept_client();
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    util::msg_set_program(argv[0]);
    int family = AF_UNSPEC;
    bool count = false;
    int ttl = 0;
    int ch;
    while ((ch = ::getopt(argc, argv, "+46cvx:")) > 0) {
        switch (ch) {
        case '4': family = AF_INET; break;
        case '6': family = AF_INET6; break;
        case 'c': count = true; break;
        case 'v': ++util::msg_verbose; break;
        case 'x':
            if ((ttl = std::atoi(optarg)) <= 0) usage(argv[0]);
            break;
        default: usage(argv[0]);
        }
    }
    if (argc - optind != 2) usage(argv[0]);
    int backlog = std::atoi(argv[optind + 1]);
    if (backlog <= 0) usage(argv[0]);
    if (util::msg_verbose)
        util::msg_info("name_mask: {}", family == AF_INET ? "ipv4" : family == AF_INET6 ? "ipv6" : "all");
    std::string endpoint = argv[optind];
    int sock;
    if (endpoint.rfind("unix:", 0) == 0) {
        sock = unix_listen(endpoint.substr(5), backlog);
    } else {
        if (endpoint.rfind("inet:", 0) == 0) endpoint.erase(0, 5);
        sock = inet_listen(endpoint, backlog, family);
    }
    Sink(sock, count).run(ttl);
}
