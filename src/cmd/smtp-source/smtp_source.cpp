// smtp-source(1): a parallel SMTP/LMTP test client that sends generated (or
// file) messages to a server, as the reference 3.7.11 smtp-source does:
// its options, dialogue (HELO/LHLO, MAIL, RCPT..., DATA, message, ".",
// RSET after rejects, QUIT), generated headers and body, -v trace
// ("<<< reply" lines and the commands sent), -c counter, diagnostics and
// exit status. Sessions run side by side in one event loop; connections
// are opened one after another, as the reference's connect queue does.
//
// Trust: options are the operator's; server replies are hostile: lines are
// bounded (10240 bytes, the rest skipped), unprintable bytes show as '?',
// and a reply that breaks the dialogue is fatal (or a warning with -A).
#include "source_session.h"

#include "util/msg.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

using namespace pf;
using namespace pf::smtp_source;

namespace {

[[noreturn]] void usage(const char* myname) {
    util::msg_fatal(
        "usage: {} -cdLNov -s sess -l msglen -m msgs -C count -M myhostname -f from -t to -r rcptcount -R delay "
        "-w delay host[:port]",
        myname);
}

int c_atoi(const char* s) {
    long v = std::strtol(s, nullptr, 10);
    if (v > 0x7fffffffL) return 0x7fffffff;
    if (v < -0x7fffffffL - 1) return -0x7fffffff - 1;
    return static_cast<int>(v);
}

// The reference's hostname check for -M (with its warnings).
bool valid_hostname(const std::string& name) {
    const std::string shown = name.substr(0, 100);
    if (name.empty()) {
        util::msg_warn("valid_hostname: empty hostname");
        return false;
    }
    int label_length = 0;
    bool non_numeric = false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        unsigned char ch = static_cast<unsigned char>(name[i]);
        bool last = i + 1 == name.size();
        if (std::isalnum(ch) || ch == '_') {
            if (++label_length > 63) {
                util::msg_warn("valid_hostname: hostname label too long: {}", shown);
                return false;
            }
            if (!std::isdigit(ch)) non_numeric = true;
        } else if (ch == '.') {
            if (label_length == 0 || last) {
                util::msg_warn("valid_hostname: misplaced delimiter: {}", shown);
                return false;
            }
            label_length = 0;
        } else if (ch == '-') {
            non_numeric = true;
            label_length++;
            if (label_length == 1 || last || name[i + 1] == '.') {
                util::msg_warn("valid_hostname: misplaced hyphen: {}", shown);
                return false;
            }
        } else {
            util::msg_warn("valid_hostname: invalid character {}(decimal): {}", static_cast<int>(ch), shown);
            return false;
        }
    }
    if (!non_numeric) {
        util::msg_warn("valid_hostname: numeric hostname: {}", shown);
        return false;
    }
    if (name.size() > 255) {
        util::msg_warn("valid_hostname: bad length {} for {}...", name.size(), shown);
        return false;
    }
    return true;
}

// "[1.2.3.4]" or "[ipv6:...]" for -M. (The address checks themselves are
// inet_pton's; the reference's finer-grained complaints about a bad
// address are not reproduced.)
bool valid_literal(const std::string& text) {
    const std::string shown = text.substr(0, 100);
    std::size_t close = text.find(']');
    if (close == std::string::npos) {
        util::msg_warn("valid_mailhost_literal: ']' expected at end: {}", shown);
        return false;
    }
    if (close + 1 != text.size()) {
        util::msg_warn("valid_mailhost_literal: unexpected text after ']': {}", shown);
        return false;
    }
    std::string inside = text.substr(1, close - 1);
    if (inside.size() >= 46) {
        util::msg_warn("valid_mailhost_literal: too much text: {}", shown);
        return false;
    }
    in_addr a4{};
    in6_addr a6{};
    if (inside.compare(0, 5, "IPv6:") == 0 || inside.compare(0, 5, "ipv6:") == 0)
        return inet_pton(AF_INET6, inside.c_str() + 5, &a6) == 1;
    return inet_pton(AF_INET, inside.c_str(), &a4) == 1;
}

// The reference's host_port() with no default host and service "smtp".
const char* split_host_port(const std::string& buf, std::string& host, std::string& port) {
    if (!buf.empty() && buf[0] == '[') {
        std::size_t close = buf.find(']');
        if (close == std::string::npos) return "missing \"]\"";
        host = buf.substr(1, close - 1);
        std::string rest = buf.substr(close + 1);
        if (!rest.empty() && rest[0] != ':') return "garbage after \"]\"";
        if (!rest.empty()) rest.erase(0, 1);
        if (host.compare(0, 5, "ipv6:") == 0 || host.compare(0, 5, "IPv6:") == 0) {
            host.erase(0, 5);
            in6_addr a6{};
            if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) return "malformed IPv6 address";
        }
        port = rest.empty() ? "smtp" : rest;
    } else {
        std::size_t colon = buf.rfind(':');
        if (colon != std::string::npos) {
            host = buf.substr(0, colon);
            port = buf.substr(colon + 1);
            if (port.empty()) port = "smtp";
        } else {
            host = buf;
            port = "smtp";
        }
    }
    if (host.empty()) return "missing host information";
    in_addr a4{};
    in6_addr a6{};
    bool addr = inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
    bool name = host.size() <= 255;
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) name = false;
    if (!addr && !name) return "valid hostname or network address required";
    if (port[0] >= '0' && port[0] <= '9' && port.find_first_not_of("0123456789") != std::string::npos)
        return "garbage after numerical service";
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    util::msg_set_program(argv[0]);
    util::msg_set_fatal_sleep(true);
    SourceConfig cfg;
    int sessions = 1;
    const char* message_file = nullptr;
    int family = AF_UNSPEC;
    const char* protocols = "all";
    int ch;
    while ((ch = getopt(argc, argv, "+46AcC:df:F:l:Lm:M:Nor:R:s:S:t:T:vw:")) > 0) {
        switch (ch) {
        case '4': family = AF_INET; protocols = "ipv4"; break;
        case '6': family = AF_INET6; protocols = "ipv6"; break;
        case 'A': cfg.allow_reject = true; break;
        case 'c': cfg.count = true; break;
        case 'C':
            if ((cfg.connect_count = c_atoi(optarg)) <= 0) util::msg_fatal("bad connection count: {}", optarg);
            break;
        case 'd': cfg.disconnect = false; break;
        case 'f': cfg.sender = optarg; cfg.have_sender = true; break;
        case 'F':
            if (message_file == nullptr && cfg.message_length > 0) util::msg_fatal("-l option cannot be used with -F");
            message_file = optarg;
            break;
        case 'l':
            if (message_file != nullptr) util::msg_fatal("-l option cannot be used with -F");
            if ((cfg.message_length = c_atoi(optarg)) <= 0) util::msg_fatal("bad message length: {}", optarg);
            break;
        case 'L': cfg.talk_lmtp = true; break;
        case 'm':
            if ((cfg.message_count = c_atoi(optarg)) <= 0) util::msg_fatal("bad message count: {}", optarg);
            break;
        case 'M':
            if (optarg[0] == '[') {
                if (!valid_literal(optarg)) util::msg_fatal("bad address literal: {}", optarg);
            } else if (!valid_hostname(optarg)) {
                util::msg_fatal("bad hostname: {}", optarg);
            }
            cfg.myhostname = optarg;
            break;
        case 'N': cfg.number_rcpts = 1; break;
        case 'o':
            cfg.send_helo_first = false;
            cfg.send_headers = false;
            break;
        case 'r':
            if ((cfg.recipients = c_atoi(optarg)) <= 0) util::msg_fatal("bad recipient count: {}", optarg);
            break;
        case 'R':
            if (cfg.fixed_delay > 0) util::msg_fatal("do not use -w and -R options at the same time");
            if ((cfg.random_delay = c_atoi(optarg)) <= 0) util::msg_fatal("bad random delay: {}", optarg);
            break;
        case 's':
            if ((sessions = c_atoi(optarg)) <= 0) util::msg_fatal("bad session count: {}", optarg);
            break;
        case 'S': cfg.subject = optarg; cfg.have_subject = true; break;
        case 't': cfg.recipient = optarg; cfg.have_recipient = true; break;
        case 'T':
            if ((cfg.window_size = c_atoi(optarg)) <= 0) util::msg_fatal("bad TCP window size: {}", optarg);
            break;
        case 'v': util::msg_verbose++; break;
        case 'w':
            if (cfg.random_delay > 0) util::msg_fatal("do not use -w and -R options at the same time");
            if ((cfg.fixed_delay = c_atoi(optarg)) <= 0) util::msg_fatal("bad fixed delay: {}", optarg);
            break;
        default: usage(argv[0]);
        }
    }
    if (argc - optind != 1) usage(argv[0]);
    if (cfg.random_delay > 0) std::srand(static_cast<unsigned>(getpid()));

    if (message_file != nullptr) {
        std::FILE* fp = std::fopen(message_file, "r");
        if (fp == nullptr) util::msg_fatal("open {}: {}", message_file, std::strerror(errno));
        // Each line CR LF terminated, a leading '.' doubled.
        std::string line;
        int c;
        bool any = false;
        auto end_line = [&] {
            if (!line.empty() && line[0] == '.') cfg.message_data.push_back('.');
            cfg.message_data += line;
            cfg.message_data += "\r\n";
            line.clear();
        };
        while ((c = std::getc(fp)) != EOF) {
            any = true;
            if (c == '\n') {
                end_line();
                any = false;
            } else {
                line.push_back(static_cast<char>(c));
            }
        }
        if (any) end_line();
        if (std::ferror(fp)) util::msg_fatal("read {}: {}", message_file, std::strerror(errno));
        std::fclose(fp);
        cfg.message_length = static_cast<int>(cfg.message_data.size());
        cfg.send_headers = false;
    } else if (cfg.message_length > 0) {
        cfg.message_data.assign(static_cast<std::size_t>(cfg.message_length), 'X');
        for (int i = 80; i < cfg.message_length; i += 80) {
            cfg.message_data[static_cast<std::size_t>(i - 80)] = "0123456789"[(i / 80) % 10];
            cfg.message_data[static_cast<std::size_t>(i - 2)] = '\r';
            cfg.message_data[static_cast<std::size_t>(i - 1)] = '\n';
        }
    }

    if (util::msg_verbose) util::msg_info("name_mask: {}", protocols);
    std::string target = argv[optind];
    if (target.compare(0, 5, "unix:") == 0) {
        std::string path = target.substr(5);
        sockaddr_un sun{};
        if (path.size() >= sizeof(sun.sun_path)) util::msg_fatal("unix-domain name too long: {}", path);
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, path.data(), path.size());
        std::memcpy(&cfg.addr, &sun, sizeof(sun));
        cfg.addr_len = sizeof(sun);
    } else {
        if (target.compare(0, 5, "inet:") == 0) target.erase(0, 5);
        std::string host, port;
        if (const char* err = split_host_port(target, host, port)) util::msg_fatal("{}: {}", target, err);
        addrinfo hints{};
        hints.ai_family = family;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        if (int e = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); e != 0)
            util::msg_fatal("{}: {}", target, gai_strerror(e));
        std::memcpy(&cfg.addr, res->ai_addr, res->ai_addrlen);
        cfg.addr_len = res->ai_addrlen;
        freeaddrinfo(res);
    }

    if (cfg.myhostname.empty()) {
        utsname u{};
        uname(&u);
        cfg.myhostname = u.nodename;
    }
    if (!cfg.have_sender || !cfg.have_recipient) {
        std::string def = "foo@" + cfg.myhostname;
        if (!cfg.have_sender) cfg.sender = def;
        if (!cfg.have_recipient) cfg.recipient = def;
    }
    util::EventLoop loop;
    loop.use_epoll();
    Client client(cfg, loop);
    client.run(sessions);
}
