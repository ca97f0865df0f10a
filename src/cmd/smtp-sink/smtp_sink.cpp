// smtp-sink(1): a parallel SMTP/LMTP test server that accepts mail and
// throws it away (or captures it with -d/-D), for measuring clients. The
// options, replies, diagnostics (with -v) and counters of the reference
// 3.7.11 smtp-sink; one process, one event loop, every session at once.
//
// Trust: options are the operator's; clients are hostile (see
// sink_session.h). As root it requires -u and drops to that user (after
// an optional -R chroot) once the listener is open.
#include "sink_config.h"
#include "sink_session.h"

#include "util/msg.h"

#include <arpa/inet.h>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

using namespace pf;
using namespace pf::smtp_sink;

namespace {

// -4 / -6 / neither: the address families the reference's inet_protocols
// setting would give.
enum class Protocols { all, ipv4, ipv6 };

[[noreturn]] void usage(const char* myname) {
    util::msg_fatal(
        "usage: {} [-468acCeEFLpPv] [-A abort_delay] [-b soft_bounce_reply] [-B hard_bounce_reply] "
        "[-d dump-template] [-D dump-template] [-f commands] [-h hostname] [-m max_concurrency] "
        "[-M message_quit_count] [-n quit_count] [-q commands] [-r commands] [-R root-dir] [-s commands] "
        "[-S start-string] [-u user_privs] [-w delay] [host]:port backlog",
        myname);
}

bool all_digits(const char* s) {
    if (*s == 0) return false;
    for (; *s; ++s)
        if (*s < '0' || *s > '9') return false;
    return true;
}

bool family_ok(Protocols p, int family) {
    if (family == AF_INET) return p != Protocols::ipv6;
    if (family == AF_INET6) return p != Protocols::ipv4;
    return false;
}

std::string sockaddr_text(const sockaddr* sa, socklen_t len, std::string* port) {
    char host[NI_MAXHOST] = "";
    char serv[NI_MAXSERV] = "";
    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return "unknown";
    if (port) *port = serv;
    return host;
}

// The reference's host_port() checks on "host:port", "[host]:port", "port".
const char* split_host_port(std::string buf, std::string& host, std::string& port, bool& host_given) {
    host_given = false;
    if (!buf.empty() && buf[0] == '[') {
        std::size_t close = buf.find(']');
        if (close == std::string::npos) return "missing \"]\"";
        std::string inside = buf.substr(1, close - 1);
        std::string rest = buf.substr(close + 1);
        if (!rest.empty() && rest[0] != ':') return "garbage after \"]\"";
        if (!rest.empty()) rest.erase(0, 1);
        if (inside.compare(0, 5, "ipv6:") == 0 || inside.compare(0, 5, "IPv6:") == 0) {
            inside.erase(0, 5);
            in6_addr a6{};
            if (inet_pton(AF_INET6, inside.c_str(), &a6) != 1) return "malformed IPv6 address";
        }
        host = inside;
        host_given = true;
        if (rest.empty()) return "missing service information";
        port = rest;
    } else {
        std::size_t colon = buf.rfind(':');
        if (colon != std::string::npos) {
            host = buf.substr(0, colon);
            host_given = !host.empty();
            port = buf.substr(colon + 1);
            if (port.empty()) return "missing service information";
        } else {
            host.clear();
            if (buf.empty()) return "missing service information";
            port = buf;
        }
    }
    if (host_given) {
        in_addr a4{};
        in6_addr a6{};
        bool addr = inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
        bool name = !host.empty() && host.size() <= 255;
        for (char c : host)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) name = false;
        if (!addr && !name) return "valid hostname or network address required";
    }
    if (!port.empty() && port[0] >= '0' && port[0] <= '9' && !all_digits(port.c_str()))
        return "garbage after numerical service";
    return nullptr;
}

int inet_listen(const std::string& addr, int backlog, Protocols protocols, int window) {
    std::string host, port;
    bool host_given = false;
    if (const char* err = split_host_port(addr, host, port, host_given)) util::msg_fatal("{}: {}", addr, err);
    addrinfo hints{};
    hints.ai_family = protocols == Protocols::ipv4 ? AF_INET : protocols == Protocols::ipv6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (!host_given) hints.ai_flags |= AI_PASSIVE;
    addrinfo* res0 = nullptr;
    if (int e = getaddrinfo(host_given ? host.c_str() : nullptr, port.c_str(), &hints, &res0); e != 0)
        util::msg_fatal("{}: {}", addr, gai_strerror(e));
    addrinfo* res = res0;
    for (;; res = res->ai_next) {
        if (res == nullptr) util::msg_fatal("{}: host found but no usable address", addr);
        if (family_ok(protocols, res->ai_family)) break;
        util::msg_info("skipping address family {} for {}", res->ai_family, addr);
    }
    std::string portnum;
    std::string hostaddr = sockaddr_text(res->ai_addr, res->ai_addrlen, &portnum);
    if (util::msg_verbose) util::msg_info("trying... [{}]:{}", hostaddr, portnum);
    int sock = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
    if (sock < 0) util::msg_fatal("socket: {}", std::strerror(errno));
    int on = 1;
    if (res->ai_family == AF_INET6 && setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
        util::msg_fatal("setsockopt(IPV6_V6ONLY): {}", std::strerror(errno));
    if (setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
        util::msg_fatal("setsockopt(SO_REUSEADDR): {}", std::strerror(errno));
    if (setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
        util::msg_fatal("setsockopt(SO_REUSEPORT): {}", std::strerror(errno));
    if (::bind(sock, res->ai_addr, res->ai_addrlen) < 0)
        util::msg_fatal("bind {} port {}: {}", hostaddr, portnum, std::strerror(errno));
    freeaddrinfo(res0);
    if (window > 0) {
        setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &window, sizeof(window));
        setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
    }
    if (::listen(sock, backlog) < 0) util::msg_fatal("listen: {}", std::strerror(errno));
    return sock;
}

int unix_listen(const std::string& path, int backlog) {
    sockaddr_un sun{};
    if (path.size() >= sizeof(sun.sun_path)) util::msg_fatal("unix-domain name too long: {}", path);
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) util::msg_fatal("socket: {}", std::strerror(errno));
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) util::msg_fatal("remove {}: {}", path, std::strerror(errno));
    if (::bind(sock, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)) < 0)
        util::msg_fatal("bind: {}: {}", path, std::strerror(errno));
    if (::fchmod(sock, 0666) < 0) util::msg_fatal("fchmod socket {}: {}", path, std::strerror(errno));
    if (::listen(sock, backlog) < 0) util::msg_fatal("listen: {}", std::strerror(errno));
    return sock;
}

void chroot_uid(const char* root_dir, const char* user) {
    uid_t uid = 0;
    gid_t gid = 0;
    if (user) {
        passwd* pw = getpwnam(user);
        if (pw == nullptr) util::msg_fatal("unknown user: {}", user);
        uid = pw->pw_uid;
        gid = pw->pw_gid;
        if (setgid(gid) < 0) util::msg_fatal("setgid({}): {}", static_cast<long>(gid), std::strerror(errno));
        if (initgroups(user, gid) < 0) util::msg_fatal("initgroups: {}", std::strerror(errno));
    }
    if (root_dir) {
        if (chroot(root_dir) != 0) util::msg_fatal("chroot({}): {}", root_dir, std::strerror(errno));
        if (chdir("/") != 0) util::msg_fatal("chdir(/): {}", std::strerror(errno));
    }
    if (user && setuid(uid) < 0) util::msg_fatal("setuid({}): {}", static_cast<long>(uid), std::strerror(errno));
    if (util::msg_verbose > 1)
        util::msg_info("chroot {} user {}", root_dir ? root_dir : "(none)", user ? user : "(none)");
}

Protocols g_protocols = Protocols::all;

}  // namespace

namespace pf::smtp_sink {

void Server::accept_one() {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (++client_count == cfg.max_client_count) loop.unwatch_fd(listen_fd);
    const sockaddr* sa = reinterpret_cast<const sockaddr*>(&ss);
    std::string addr = family_ok(g_protocols, sa->sa_family) ? sockaddr_text(sa, len, nullptr) : "local";
    if (util::msg_verbose)
        util::msg_info("connect ({} {})",
                       sa->sa_family == AF_UNIX    ? "AF_LOCAL"
                       : sa->sa_family == AF_INET  ? "AF_INET"
                       : sa->sa_family == AF_INET6 ? "AF_INET6"
                                                   : "unknown protocol family",
                       addr);
    // The reference sizes its stream buffer from the TCP segment size.
    sockaddr_storage self{};
    socklen_t self_len = sizeof(self);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &self_len) == 0 &&
        (self.ss_family == AF_INET || self.ss_family == AF_INET6)) {
        int mss = 0;
        socklen_t mss_len = sizeof(mss);
        if (getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &mss_len) < 0 && errno != ECONNRESET) {
            util::msg_warn("vstream_tweak_tcp: getsockopt TCP_MAXSEG: {}", std::strerror(errno));
        } else {
            if (util::msg_verbose) util::msg_info("vstream_tweak_tcp: TCP_MAXSEG {}", mss);
            if (mss > 4096 / 4) {
                if (mss < INT_MAX / 2) mss *= 2;
                if (mss < INT_MAX / 2) mss *= 2;
                if (util::msg_verbose) util::msg_info("fd={}: stream buffer size old=0 new={}", fd, mss);
            }
        }
    }
    if (util::msg_verbose)
        util::msg_info("smtp_stream_setup: maxtime={} enable_deadline=0 min_data_rate=0", cfg.timeout);
    auto session = std::make_unique<Session>(*this, fd, addr, sa->sa_family == AF_INET6);
    Session* s = session.get();
    sessions.emplace(s, std::move(session));
    s->start();
    finished.clear();
}

}  // namespace pf::smtp_sink

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    util::msg_set_program(argv[0]);
    util::msg_set_fatal_sleep(true);
    SinkConfig cfg;
    const char* root_dir = nullptr;
    const char* user_privs = nullptr;
    const char* single_template = nullptr;
    const char* shared_template = nullptr;
    int ch;
    while ((ch = getopt(argc, argv, "+468aA:b:B:cCd:D:eEf:Fh:H:Ln:m:M:NpPq:Q:r:R:s:S:t:T:u:vw:W:")) > 0) {
        switch (ch) {
        case '4': g_protocols = Protocols::ipv4; break;
        case '6': g_protocols = Protocols::ipv6; break;
        case '8': cfg.disable_8bitmime = true; break;
        case 'a': cfg.disable_saslauth = true; break;
        case 'A':
            if (!all_digits(optarg) || (cfg.abort_delay = c_atoi(optarg)) < 0) usage(argv[0]);
            break;
        case 'b':
            if (optarg[0] != '4' || std::strspn(optarg, "0123456789") != 3) {
                util::msg_error("bad soft error reply: {}", optarg);
                usage(argv[0]);
            }
            cfg.soft_reply = optarg;
            break;
        case 'B':
            if (optarg[0] != '5' || std::strspn(optarg, "0123456789") != 3) {
                util::msg_error("bad hard error reply: {}", optarg);
                usage(argv[0]);
            }
            cfg.hard_reply = optarg;
            break;
        case 'c': cfg.show_count = true; break;
        case 'C':
            cfg.disable_xclient = true;
            clear_command_flags(cfg, "xclient", kEnable);
            break;
        case 'd': single_template = optarg; break;
        case 'D': shared_template = optarg; break;
        case 'e': cfg.disable_esmtp = true; break;
        case 'E': cfg.disable_enh_status = true; break;
        case 'f':
            set_commands_flags(cfg, optarg, kHardErr);
            cfg.disable_pipelining = true;
            break;
        case 'F':
            cfg.disable_xforward = true;
            clear_command_flags(cfg, "xforward", kEnable);
            break;
        case 'h': cfg.hostname = optarg; break;
        case 'H':
            if ((cfg.data_read_delay = c_atoi(optarg)) <= 0) util::msg_fatal("bad data read delay: {}", optarg);
            break;
        case 'L': cfg.enable_lmtp = true; break;
        case 'm':
            if ((cfg.max_client_count = c_atoi(optarg)) <= 0) util::msg_fatal("bad concurrency limit: {}", optarg);
            break;
        case 'M':
            if ((cfg.max_msg_quit_count = c_atoi(optarg)) <= 0)
                util::msg_fatal("bad message quit count: {}", optarg);
            break;
        case 'n':
            if ((cfg.max_quit_count = c_atoi(optarg)) <= 0) util::msg_fatal("bad quit count: {}", optarg);
            break;
        case 'N': cfg.disable_dsn = true; break;
        case 'p': cfg.disable_pipelining = true; break;
        case 'P':
            cfg.pretend_pix = true;
            cfg.disable_esmtp = true;
            break;
        case 'q': set_commands_flags(cfg, optarg, kDisconnect); break;
        case 'Q': set_commands_flags(cfg, optarg, kClose); break;
        case 'r':
            set_commands_flags(cfg, optarg, kSoftErr);
            cfg.disable_pipelining = true;
            break;
        case 'R': root_dir = optarg; break;
        case 's':
            openlog(basename(argv[0]), LOG_PID, LOG_MAIL);
            set_commands_flags(cfg, optarg, kSyslog);
            break;
        case 'S':
            cfg.have_start_string = true;
            cfg.start_string = unescape(optarg);
            break;
        case 't':
            if ((cfg.timeout = c_atoi(optarg)) <= 0) util::msg_fatal("bad timeout: {}", optarg);
            break;
        case 'T':
            if ((cfg.window_size = c_atoi(optarg)) <= 0) util::msg_fatal("bad TCP window size: {}", optarg);
            break;
        case 'u': user_privs = optarg; break;
        case 'v': util::msg_verbose++; break;
        case 'w': {
            int delay = c_atoi(optarg);
            if (delay <= 0) usage(argv[0]);
            set_command_delay(cfg, "data", delay, 0);
            break;
        }
        case 'W': set_command_delay_arg(cfg, optarg); break;
        default: usage(argv[0]);
        }
    }
    if (argc - optind != 2) usage(argv[0]);
    int backlog = c_atoi(argv[optind + 1]);
    if (backlog <= 0) usage(argv[0]);
    if (single_template && shared_template) util::msg_fatal("use only one of -d or -D, but not both");
    if (geteuid() == 0 && user_privs == nullptr) util::msg_fatal("-u option is required if running as root");
    set_commands_flags(cfg, cfg.enable_lmtp ? "lhlo" : cfg.disable_esmtp ? "helo" : "helo, ehlo", kEnable);
    if (util::msg_verbose)
        util::msg_info("name_mask: {}", g_protocols == Protocols::ipv4   ? "ipv4"
                                        : g_protocols == Protocols::ipv6 ? "ipv6"
                                                                         : "all");
    std::string endpoint = argv[optind];
    util::EventLoop loop;
    loop.use_epoll();
    Server server{cfg, loop};
    if (endpoint.compare(0, 5, "unix:") == 0) {
        server.listen_fd = unix_listen(endpoint.substr(5), backlog);
    } else {
        if (endpoint.compare(0, 5, "inet:") == 0) endpoint.erase(0, 5);
        server.listen_fd = inet_listen(endpoint, backlog, g_protocols, cfg.window_size);
    }
    if (user_privs) chroot_uid(root_dir, user_privs);
    if (single_template) {
        std::srand(static_cast<unsigned>(std::time(nullptr)));
        cfg.single_template = single_template;
        cfg.dump = true;
    } else if (shared_template) {
        std::srand(static_cast<unsigned>(getpid() ^ std::time(nullptr)));
        cfg.single_template = shared_template;
        cfg.shared = true;
        cfg.dump = true;
    }
    server.watch_listener();
    for (;;) {
        if (!loop.run_once()) util::msg_fatal("event loop: {}", std::strerror(errno));
        server.finished.clear();
    }
}
