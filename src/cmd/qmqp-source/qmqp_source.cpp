// qmqp-source(1): a QMQP load generator, as the reference's test program
// behaves: it builds one message (From:/To:/Date:/Message-Id: headers and
// lines of X's up to -l bytes), one sender and -r recipients ("<n><to>"
// when more than one), and sends that request -m times over -s sessions
// in parallel (one QMQP transaction per connection, one connection being
// set up at a time), waiting -w or a random 0..-R seconds between
// messages. Any reply other than K, a malformed reply or a lost
// connection ends the program with a fatal error. -c prints a running
// count ("N\r", then a newline at the end), -v the replies ("<< ...").
//
// Trust: the command line is the user's; the server's replies are read
// as hostile netstrings (at most 10240 bytes).
#include "config/mail_params.h"
#include "mail/address_hostaddr.h"
#include "mail/address_idna.h"
#include "mail/mail_date.h"
#include "util/msg.h"
#include "util/netstring.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace pf;

constexpr int kReplyLimit = 10240;
constexpr int kTimeout = 300;

struct Options {
    int family = AF_UNSPEC;
    bool count = false;
    int connect_count = 1;
    std::string sender, recipient, myhostname;
    bool have_sender = false, have_recipient = false, have_myhostname = false;
    int message_length = 1024;
    int message_count = 1;
    int recipients = 1;
    int random_delay = 0;
    int fixed_delay = 0;
    int sessions = 1;
};

[[noreturn]] void usage(const char* argv0) {
    util::msg_fatal("usage: {} -cv -s sess -l msglen -m msgs -C count -M myhostname -f from -t to -R delay -w "
                    "delay host[:port]",
                    argv0);
}

// The reference's host_port() with a default port: "[host]:port",
// "host:port", "host"; an error text or nullptr.
const char* host_port(std::string buf, std::string& host, std::string& port) {
    if (!buf.empty() && buf[0] == '[') {
        std::string rest = buf.substr(1);
        bool ipv6 = rest.size() >= 5 && strncasecmp(rest.c_str(), "IPv6:", 5) == 0;
        if (ipv6) rest.erase(0, 5);
        std::size_t close = rest.find(']');
        if (close == std::string::npos) return "missing \"]\"";
        host = rest.substr(0, close);
        std::string after = rest.substr(close + 1);
        if (!after.empty() && after[0] != ':') return "garbage after \"]\"";
        if (!after.empty()) after.erase(0, 1);
        if (ipv6 && !mail::valid_ipv6_hostaddr(host, false)) return "malformed IPv6 address";
        port = after.empty() ? "628" : after;
    } else {
        std::size_t colon = buf.rfind(':');
        if (colon != std::string::npos) {
            host = buf.substr(0, colon);
            port = buf.substr(colon + 1);
            if (port.empty()) port = "628";
            if (host.empty()) return "missing host information";
        } else {
            // With no default host, the whole word is the host.
            host = buf;
            port = "628";
            if (host.empty()) return "missing host information";
        }
    }
    if (!mail::valid_utf8_hostname(false, host, false) && !mail::valid_hostaddr(host, false))
        return "valid hostname or network address required";
    if (port != "628" && std::isdigit(static_cast<unsigned char>(port[0])) &&
        port.find_first_not_of("0123456789") != std::string::npos)
        return "garbage after numerical service";
    return nullptr;
}

// What the reference's stream layer reports with -v when it sizes a TCP
// connection's buffer: the MSS, and a buffer of four times the MSS when
// that is more than a quarter of its 4096-byte default.
void tweak_tcp(int fd) {
    int mss = 0;
    socklen_t mlen = sizeof mss;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &mlen) < 0 && errno != ECONNRESET) {
        util::msg_warn("vstream_tweak_tcp: getsockopt TCP_MAXSEG: {}", std::strerror(errno));
        return;
    }
    if (util::msg_verbose) util::msg_info("vstream_tweak_tcp: TCP_MAXSEG {}", mss);
    if (mss > 4096 / 4 && util::msg_verbose)
        util::msg_info("fd={}: stream buffer size old=0 new={}", fd, static_cast<long>(mss) * 4);
}

const char* exception_text(util::NetstringError e) {
    switch (e) {
    case util::NetstringError::eof: return "lost connection";
    case util::NetstringError::timeout: return "timeout";
    case util::NetstringError::format: return "netstring format error";
    case util::NetstringError::size: return "netstring size exceeds limit";
    }
    return "unknown";
}

struct Session {
    int fd = -1;
    int connects_left = 1;
    enum class State { idle, connecting, replying, waiting } state = State::idle;
    std::chrono::steady_clock::time_point wake{};
};

class Generator {
public:
    Generator(Options options, sockaddr_storage addr, socklen_t addr_len, std::string request)
        : opt_(std::move(options)), addr_(addr), addr_len_(addr_len), request_(std::move(request)) {}

    int run();

private:
    void startup(Session& s);
    void start_another(Session& s);
    void start_connect(Session& s);
    void fail_connect(Session& s);
    void connect_done(Session& s);
    void receive_reply(Session& s);
    void close_session(Session& s) {
        if (s.fd >= 0) ::close(s.fd);
        s.fd = -1;
    }

    Options opt_;
    sockaddr_storage addr_;
    socklen_t addr_len_;
    std::string request_;
    std::vector<std::unique_ptr<Session>> sessions_;
    std::deque<Session*> connect_queue_;
    int active_ = 0;
    int event_fd_ = -1;
    int counter_ = 0;
    // Standard output as the reference's stream buffer handles it: written
    // when the counter is shown (an explicit flush) or in whole 4096-byte
    // buffers; what is left at the end is written only with -c (without
    // it, the reference exits with its last replies unwritten).
    std::string out_;
    void spill() {
        std::size_t whole = out_.size() / 4096 * 4096;
        if (whole == 0) return;
        std::fwrite(out_.data(), 1, whole, stdout);
        std::fflush(stdout);
        out_.erase(0, whole);
    }
};

void Generator::startup(Session& s) {
    if (opt_.message_count-- <= 0) {
        s.state = Session::State::idle;
        --active_;
        return;
    }
    connect_queue_.push_back(&s);
    if (connect_queue_.size() == 1) start_connect(s);
}

void Generator::start_another(Session& s) {
    int delay = opt_.random_delay > 0 ? std::rand() % (opt_.random_delay + 1) : opt_.fixed_delay;
    if (delay > 0) {
        s.state = Session::State::waiting;
        s.wake = std::chrono::steady_clock::now() + std::chrono::seconds(delay);
    } else {
        startup(s);
    }
}

void Generator::start_connect(Session& s) {
    int fd = ::socket(addr_.ss_family, SOCK_STREAM, 0);
    if (fd < 0) util::msg_fatal("socket: {}", std::strerror(errno));
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    linger lg{1, 0};
    if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
        util::msg_warn("setsockopt SO_LINGER {}: {}", lg.l_linger, std::strerror(errno));
    s.fd = fd;
    s.state = Session::State::connecting;
    // The reference's event loop opens its epoll descriptor after the
    // first socket; one is kept here too, so that descriptor numbers in
    // the -v output are the same.
    if (event_fd_ < 0) event_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_) < 0 && errno != EINPROGRESS) fail_connect(s);
}

void Generator::fail_connect(Session& s) {
    int saved = errno;
    if (s.connects_left-- == 1) util::msg_fatal("connect: {}", std::strerror(saved));
    util::msg_warn("connect: {}", std::strerror(saved));
    close_session(s);
    ::usleep(10);
    start_connect(s);
}

void Generator::connect_done(Session& s) {
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0 || error != 0) {
        if (error) errno = error;
        fail_connect(s);
        return;
    }
    connect_queue_.pop_front();
    if (!connect_queue_.empty()) start_connect(*connect_queue_.front());
    ::fcntl(s.fd, F_SETFL, ::fcntl(s.fd, F_GETFL) & ~O_NONBLOCK);
    if (addr_.ss_family == AF_INET || addr_.ss_family == AF_INET6) tweak_tcp(s.fd);
    if (auto w = util::netstring_write(s.fd, request_, kTimeout); !w)
        util::msg_fatal("{} while sending message", exception_text(w.error()));
    s.state = Session::State::replying;
}

void Generator::receive_reply(Session& s) {
    util::NetstringReader reader(util::NetstringReader::fd_source(s.fd, kTimeout));
    std::string reply;
    if (auto r = reader.get(reply, kReplyLimit); !r)
        util::msg_fatal("{} while receiving server reply", exception_text(r.error()));
    if (util::msg_verbose) {
        out_ += "<< " + reply + "\n";
        spill();
    }
    char code = reply.empty() ? '\0' : reply[0];
    if (code != 'K')
        util::msg_fatal("{} error: {}",
                        code == 'Z'   ? "recoverable"
                        : code == 'D' ? "unrecoverable"
                                      : "unknown",
                        reply.empty() ? std::string() : reply.substr(1));
    if (opt_.count) {
        ++counter_;
        out_ += std::to_string(counter_) + "\r";
        std::fwrite(out_.data(), 1, out_.size(), stdout);
        std::fflush(stdout);
        out_.clear();
    }
    close_session(s);
    start_another(s);
}

int Generator::run() {
    for (int i = 0; i < opt_.sessions; ++i) {
        auto s = std::make_unique<Session>();
        s->connects_left = opt_.connect_count;
        ++active_;
        sessions_.push_back(std::move(s));
        startup(*sessions_.back());
    }
    while (active_ > 0 || opt_.message_count > 0) {
        std::vector<pollfd> fds;
        std::vector<Session*> who;
        auto now = std::chrono::steady_clock::now();
        int timeout = -1;
        for (auto& s : sessions_) {
            if (s->state == Session::State::connecting && !connect_queue_.empty() && connect_queue_.front() == s.get()) {
                fds.push_back({s->fd, POLLOUT, 0});
                who.push_back(s.get());
            } else if (s->state == Session::State::replying) {
                fds.push_back({s->fd, POLLIN, 0});
                who.push_back(s.get());
            } else if (s->state == Session::State::waiting) {
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(s->wake - now).count();
                ms = std::max<long long>(ms, 0);
                timeout = timeout < 0 ? static_cast<int>(ms) : std::min(timeout, static_cast<int>(ms));
            }
        }
        if (fds.empty() && timeout < 0) break;
        int n = ::poll(fds.data(), fds.size(), timeout);
        if (n < 0 && errno != EINTR) util::msg_fatal("poll: {}", std::strerror(errno));
        for (std::size_t i = 0; n > 0 && i < fds.size(); ++i) {
            if (fds[i].revents == 0) continue;
            Session& s = *who[i];
            if (s.state == Session::State::connecting)
                connect_done(s);
            else if (s.state == Session::State::replying)
                receive_reply(s);
        }
        now = std::chrono::steady_clock::now();
        for (auto& s : sessions_)
            if (s->state == Session::State::waiting && s->wake <= now) startup(*s);
    }
    if (opt_.count) {
        out_ += "\n";
        std::fwrite(out_.data(), 1, out_.size(), stdout);
        std::fflush(stdout);
    }
    return 0;
}

int positive(const char* argv0, const char* arg) {
    int v = std::atoi(arg);
    if (v <= 0) usage(argv0);
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    util::msg_set_program(argv[0]);
    Options opt;
    int ch;
    while ((ch = ::getopt(argc, argv, "+46cC:f:l:m:M:r:R:s:t:vw:")) > 0) {
        switch (ch) {
        case '4': opt.family = AF_INET; break;
        case '6': opt.family = AF_INET6; break;
        case 'c': opt.count = true; break;
        case 'C': opt.connect_count = positive(argv[0], optarg); break;
        case 'f':
            opt.sender = optarg;
            opt.have_sender = true;
            break;
        case 'l': opt.message_length = positive(argv[0], optarg); break;
        case 'm': opt.message_count = positive(argv[0], optarg); break;
        case 'M':
            if (*optarg == '[') {
                if (!mail::valid_mailhost_literal(optarg, true)) util::msg_fatal("bad address literal: {}", optarg);
            } else if (!config::valid_hostname(optarg, true)) {
                util::msg_fatal("bad hostname: {}", optarg);
            }
            opt.myhostname = optarg;
            opt.have_myhostname = true;
            break;
        case 'r': opt.recipients = positive(argv[0], optarg); break;
        case 'R':
            if (opt.fixed_delay > 0 || (opt.random_delay = std::atoi(optarg)) <= 0) usage(argv[0]);
            break;
        case 's': opt.sessions = positive(argv[0], optarg); break;
        case 't':
            opt.recipient = optarg;
            opt.have_recipient = true;
            break;
        case 'v': ++util::msg_verbose; break;
        case 'w':
            if (opt.random_delay > 0 || (opt.fixed_delay = std::atoi(optarg)) <= 0) usage(argv[0]);
            break;
        default: usage(argv[0]);
        }
    }
    if (argc - optind != 1) usage(argv[0]);
    if (util::msg_verbose)
        util::msg_info("name_mask: {}", opt.family == AF_INET ? "ipv4" : opt.family == AF_INET6 ? "ipv6" : "all");
    if (opt.random_delay > 0) std::srand(static_cast<unsigned>(::getpid()));

    std::string endpoint = argv[optind];
    sockaddr_storage ss{};
    socklen_t ss_len = 0;
    if (endpoint.rfind("unix:", 0) == 0) {
        std::string path = endpoint.substr(5);
        sockaddr_un sun{};
        if (path.size() >= sizeof sun.sun_path) util::msg_fatal("unix-domain name too long: {}", path);
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, path.data(), path.size());
        std::memcpy(&ss, &sun, sizeof sun);
        ss_len = sizeof sun;
    } else {
        if (endpoint.rfind("inet:", 0) == 0) endpoint.erase(0, 5);
        std::string host, port;
        if (const char* err = host_port(endpoint, host, port)) util::msg_fatal("{}: {}", endpoint, err);
        addrinfo hints{};
        hints.ai_family = opt.family;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
        if (rc != 0) util::msg_fatal("{}: {}", endpoint, gai_strerror(rc));
        std::memcpy(&ss, res->ai_addr, std::min<std::size_t>(res->ai_addrlen, sizeof ss));
        ss_len = res->ai_addrlen;
        ::freeaddrinfo(res);
    }

    if (!opt.have_myhostname) {
        char name[256] = "";
        ::gethostname(name, sizeof name - 1);
        opt.myhostname = name;
    }
    std::string defaddr = "foo@" + opt.myhostname;
    if (!opt.have_sender) opt.sender = defaddr;
    if (!opt.have_recipient) opt.recipient = defaddr;
    // C strings on the reference's side: an argument ends at its first NUL.
    std::string text = "From: <" + opt.sender + ">\nTo: <" + opt.recipient + ">\nDate: " +
                       mail::mail_date(std::time(nullptr)) + "\nMessage-Id: <" + std::to_string(::getpid()) + "@" +
                       opt.myhostname + ">\n\n";
    for (int n = 1; static_cast<int>(text.size()) < opt.message_length; ++n) {
        text.append(static_cast<std::size_t>(std::min(n, 79)), 'X');
        text += '\n';
    }
    text[static_cast<std::size_t>(opt.message_length) - 1] = '\n';
    text.resize(static_cast<std::size_t>(opt.message_length));
    std::string body;
    util::netstring_append(body, text);
    util::netstring_append(body, opt.sender);
    if (opt.recipients == 1) {
        util::netstring_append(body, opt.recipient);
    } else {
        for (int n = 0; n < opt.recipients; ++n) util::netstring_append(body, std::to_string(n) + opt.recipient);
    }
    std::string request = util::netstring_encode(body);
    return Generator(std::move(opt), ss, ss_len, std::move(request)).run();
}
