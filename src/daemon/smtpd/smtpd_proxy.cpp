// smtpd's before-queue filter client (smtpd_proxy_filter); see
// smtpd_proxy.h for the behaviour it reproduces. Log texts are the
// reference's: "connect to proxy filter SERVICE: ERROR", "lost connection
// with proxy SERVICE", "timeout talking to proxy SERVICE", "proxy SERVICE
// rejected "COMMAND": "REPLY"", "received garbage from proxy SERVICE:
// LINE", "SERVICE: response longer than N: ...".
//
// Trust: the filter's bytes are hostile (bounded, censored); the settings
// come from main.cf.
#include "daemon/smtpd/smtpd_proxy.h"

#include "config/mail_params.h"
#include "daemon/smtpd/smtpd_sasl.h"
#include "smtp/smtp_stream.h"
#include "smtp/xtext.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <optional>
#include <vector>

namespace pf::smtpd {

// The smtpd_proxy_* parameters (outside the anonymous namespace: Proxy
// below keeps a reference to them).
struct ProxySettings {
    std::string service;   // smtpd_proxy_filter as written
    std::string ehlo;      // smtpd_proxy_ehlo
    int timeout = 100;     // smtpd_proxy_timeout
    bool speed_adjust = false;
};

namespace {

// Read when a transaction opens the filter (cheap next to the connection).
ProxySettings settings_of(const Server& server) {
    ProxySettings p;
    const config::Config& c = *server.config;
    std::string service = c.get("smtpd_proxy_filter");
    p.service = std::string(util::trim(service));
    p.ehlo = c.get("smtpd_proxy_ehlo");
    std::string timeout = c.get("smtpd_proxy_timeout");
    std::string t(util::trim(timeout));
    auto seconds = config::parse_time_value(t, 's');
    if (!seconds || *seconds < 1) util::msg_fatal("invalid {} parameter value: \"{}\"", "smtpd_proxy_timeout", t);
    p.timeout = *seconds;
    std::string options = c.get("smtpd_proxy_options");
    if (!p.service.empty()) {
        for (const auto& w : util::split_tokens(options, " \t\r\n,")) {
            if (util::iequals(w, "speed_adjust")) p.speed_adjust = true;
            else util::msg_fatal("unknown {} value \"{}\" in \"{}\"", "smtpd_proxy_options", w, options);
        }
    }
    return p;
}

// A connected stream socket to "host:port", "inet:host:port",
// "unix:path"; errno-style text on failure.
std::expected<int, std::string> connect_filter(const std::string& service, int timeout) {
    std::string endpoint = service;
    bool unix_socket = false;
    if (endpoint.size() >= 5 && util::iequals(std::string_view(endpoint).substr(0, 5), "unix:")) {
        endpoint = endpoint.substr(5);
        unix_socket = true;
    } else if (endpoint.size() >= 5 && util::iequals(std::string_view(endpoint).substr(0, 5), "inet:")) {
        endpoint = endpoint.substr(5);
    }
    auto finish_connect = [&](int fd, const sockaddr* sa, socklen_t len) -> std::expected<int, std::string> {
        int flags = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        if (::connect(fd, sa, len) != 0) {
            if (errno != EINPROGRESS) {
                std::string e = std::strerror(errno);
                ::close(fd);
                return std::unexpected(e);
            }
            pollfd p{fd, POLLOUT, 0};
            int n;
            do n = ::poll(&p, 1, timeout * 1000);
            while (n < 0 && errno == EINTR);
            if (n == 0) {
                ::close(fd);
                return std::unexpected(std::string(std::strerror(ETIMEDOUT)));
            }
            int err = 0;
            socklen_t elen = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
            if (err != 0) {
                ::close(fd);
                return std::unexpected(std::string(std::strerror(err)));
            }
        }
        fcntl(fd, F_SETFL, flags);
        return fd;
    };
    if (unix_socket) {
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        if (endpoint.size() >= sizeof sun.sun_path) return std::unexpected(std::string(std::strerror(ENAMETOOLONG)));
        std::memcpy(sun.sun_path, endpoint.data(), endpoint.size());
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return std::unexpected(std::string(std::strerror(errno)));
        return finish_connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun);
    }
    // "host:port", "[host]:port" or just "port" (the host defaults to
    // localhost).
    std::string host = "localhost", port = endpoint;
    if (auto colon = endpoint.rfind(':'); colon != std::string::npos) {
        host = endpoint.substr(0, colon);
        port = endpoint.substr(colon + 1);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        if (host.empty()) host = "localhost";
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
        return std::unexpected(fmt::format("{}", gai_strerror(rc)));
    std::string last = std::strerror(ECONNREFUSED);
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        auto r = finish_connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r) {
            ::freeaddrinfo(res);
            return *r;
        }
        last = r.error();
    }
    ::freeaddrinfo(res);
    return std::unexpected(last);
}

// Replaces bytes the reference does not pass on from a filter reply.
std::string censor(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 32 || u >= 127) c = '?';
    }
    return out;
}

}  // namespace

// One filter connection (or, with speed_adjust, the recording of one).
class Proxy {
public:
    Proxy(const Server& server, ProxySettings cfg) : cfg_(std::move(cfg)), line_limit_(server.settings.line_limit) {}
    ~Proxy() { close(); }
    Proxy(const Proxy&) = delete;
    Proxy& operator=(const Proxy&) = delete;

    // Connection, greeting, EHLO, XFORWARD, MAIL FROM.
    bool connect(const Session& s, const std::string& mail_from);
    // One command and its reply; expect '2', '3' or '0' (anything).
    bool command(char expect, std::string_view line);
    bool put(std::string_view text, bool cont);
    // Says QUIT (not waiting for the answer) unless the stream broke.
    void close() {
        if (stream_ && !broken_) {
            stream_->write("QUIT\r\n");
            (void)stream_->flush();
        }
        stream_.reset();
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    bool failed() const { return failed_; }
    bool speed_adjust() const { return cfg_.speed_adjust; }
    const std::string& reply() const { return reply_; }

    // speed_adjust: what is played at the end.
    bool recording = false;
    struct Step {
        char expect;       // '2', '3', '0'
        std::string line;  // command
    };
    std::vector<Step> commands;
    std::string content;           // raw SMTP lines, CRLF included
    std::string saved_mail_from;
    bool replay(const Session& s);

private:
    bool stream_error(smtp::StreamError e) {
        broken_ = true;
        if (e == smtp::StreamError::kTimeout) util::msg_warn("timeout talking to proxy {}", cfg_.service);
        else util::msg_warn("lost connection with proxy {}", cfg_.service);
        return fake();
    }
    bool fake() {
        failed_ = true;
        reply_ = std::string(kProxyFakeReply);
        return false;
    }
    bool read_reply(char expect, std::string_view what);
    bool send_xforward(const Session& s, unsigned features);

    const ProxySettings cfg_;
    std::size_t line_limit_;
    int fd_ = -1;
    std::unique_ptr<smtp::SmtpStream> stream_;
    std::string reply_;
    bool failed_ = false;
    bool broken_ = false;       // EOF, timeout or write error: no more I/O
    std::size_t pending_ = 0;   // content bytes written since the last flush
};

bool Proxy::read_reply(char expect, std::string_view what) {
    reply_.clear();
    for (;;) {
        auto line = stream_->read_line(line_limit_, true);
        if (!line) return stream_error(line.error());
        if (line->end == smtp::LineEnd::kNone && line->text.size() < line_limit_)
            return stream_error(smtp::StreamError::kEof);
        std::string text = censor(line->text);
        if (line->end == smtp::LineEnd::kNone)
            util::msg_warn("{}: response longer than {}: {:.30}...", cfg_.service, line_limit_, text);
        if (reply_.size() < line_limit_) {
            if (!reply_.empty()) reply_ += "\r\n";
            reply_ += text;
        }
        std::size_t digits = 0;
        while (digits < text.size() && digits < 4 && text[digits] >= '0' && text[digits] <= '9') ++digits;
        if (digits == 3) {
            if (text.size() > 3 && text[3] == '-') continue;
            if (text.size() == 3 || text[3] == ' ') break;
        }
        util::msg_warn("received garbage from proxy {}: {:.100}", cfg_.service, text);
    }
    if (expect != '0' && reply_.front() != expect) {
        util::msg_warn("proxy {} rejected \"{}\": \"{}\"", cfg_.service, what, reply_);
        if (reply_.front() == '2' || reply_.front() == '3') fake();
        return false;
    }
    return true;
}

bool Proxy::command(char expect, std::string_view line) {
    if (recording) {
        commands.push_back(Step{expect, std::string(line)});
        if (line == ".") return false;   // the caller replays
        return true;
    }
    if (broken_ || !stream_) return fake();
    stream_->write(line);
    stream_->write("\r\n");
    if (auto r = stream_->flush(); !r) return stream_error(r.error());
    return read_reply(expect, line);
}

bool Proxy::put(std::string_view text, bool cont) {
    if (recording) {
        content += text;
        if (!cont) content += "\r\n";
        return true;
    }
    if (broken_ || !stream_) {
        fake();
        return false;
    }
    stream_->write(text);
    if (!cont) stream_->write("\r\n");
    // Keep the buffer small: send once it holds a block.
    pending_ += text.size() + 2;
    if (pending_ >= 8192) {
        pending_ = 0;
        if (auto r = stream_->flush(); !r) {
            stream_error(r.error());
            return false;
        }
    }
    return true;
}

namespace {

enum XforwardFeature : unsigned {
    kXfName = 1u << 0, kXfAddr = 1u << 1, kXfProto = 1u << 2, kXfHelo = 1u << 3, kXfIdent = 1u << 4,
    kXfDomain = 1u << 5, kXfPort = 1u << 6,
};

}  // namespace

bool Proxy::send_xforward(const Session& s, unsigned features) {
    // Room for "XFORWARD" plus attributes in one 512-byte reply-sized line.
    constexpr std::size_t kPayloadLimit = 512 - std::string_view("250 XFORWARD\r\n").size();
    const Xforward& xf = s.xforward;
    bool fw_client = xf.client;
    auto avail = [](const std::string& v) { return !v.empty() && v != "unknown"; };
    std::string name = fw_client ? xf.name : s.name;
    std::string addr = fw_client ? xf.rfc_addr : s.rfc_addr;
    std::string port = fw_client ? xf.port : s.port;
    std::string helo = fw_client ? xf.helo.value_or("") : s.helo_name;
    std::string proto = fw_client ? xf.protocol : s.protocol;
    std::string ident = xf.ident.value_or(s.queue_id);
    std::string domain = xf.domain_set ? xf.domain : s.rewrite_context;
    std::string buf;
    auto flush = [&]() -> bool {
        if (buf.empty()) return true;
        bool ok = command('2', "XFORWARD" + buf);
        buf.clear();
        return ok;
    };
    auto add = [&](const char* key, bool available, const std::string& value) -> bool {
        std::string v = smtp::xtext_encode(available ? value : std::string("[UNAVAILABLE]"));
        std::size_t len = std::strlen(key) + v.size() + 2;
        if (len > kPayloadLimit)
            util::msg_warn("XFORWARD command payload {}={:.10}... exceeds SMTP protocol limit", key,
                           available ? value : std::string("[UNAVAILABLE]"));
        if (!buf.empty() && buf.size() + len > kPayloadLimit && !flush()) return false;
        buf += fmt::format(" {}={}", key, v);
        return true;
    };
    bool ok = (!(features & kXfName) || add("NAME", avail(name), name)) &&
              (!(features & kXfAddr) || add("ADDR", avail(addr), addr)) &&
              (!(features & kXfPort) || add("PORT", avail(port), port)) &&
              (!(features & kXfHelo) || add("HELO", !helo.empty(), helo)) &&
              (!(features & kXfIdent) || add("IDENT", !ident.empty(), ident)) &&
              (!(features & kXfProto) || add("PROTO", avail(proto), proto)) &&
              (!(features & kXfDomain) || add("SOURCE", true, domain == "local" ? "LOCAL" : "REMOTE")) && flush();
    return ok;
}

bool Proxy::connect(const Session& s, const std::string& mail_from) {
    auto fd = connect_filter(cfg_.service, cfg_.timeout);
    if (!fd) {
        util::msg_warn("connect to proxy filter {}: {}", cfg_.service, fd.error());
        return fake();
    }
    fd_ = *fd;
    stream_ = std::make_unique<smtp::SmtpStream>(fd_, cfg_.timeout);
    // Greeting and EHLO: a refusal is replaced by the generic reply (the
    // client is past the point where a greeting could reach it).
    if (!read_reply('2', "connection request")) {
        fake();
        close();
        return false;
    }
    if (!command('2', "EHLO " + cfg_.ehlo)) {
        fake();
        close();
        return false;
    }
    unsigned features = 0;
    for (auto line : util::split_tokens(reply_, "\r\n")) {
        if (line.size() < 4) continue;
        auto words = util::split_tokens(line.substr(4), " \t");
        if (words.empty() || !util::iequals(words.front(), "XFORWARD")) continue;
        for (std::size_t i = 1; i < words.size(); ++i) {
            auto w = words[i];
            if (util::iequals(w, "NAME")) features |= kXfName;
            else if (util::iequals(w, "ADDR")) features |= kXfAddr;
            else if (util::iequals(w, "PORT")) features |= kXfPort;
            else if (util::iequals(w, "PROTO")) features |= kXfProto;
            else if (util::iequals(w, "HELO")) features |= kXfHelo;
            else if (util::iequals(w, "IDENT")) features |= kXfIdent;
            else if (util::iequals(w, "SOURCE")) features |= kXfDomain;
        }
    }
    if (features && !send_xforward(s, features)) {
        fake();
        close();
        return false;
    }
    // The filter's answer to MAIL FROM reaches the client as it is.
    if (!command('2', mail_from)) {
        close();
        return false;
    }
    return true;
}

bool Proxy::replay(const Session& s) {
    recording = false;
    if (!connect(s, saved_mail_from)) return false;
    std::size_t pos = 0;
    for (const auto& step : commands) {
        if (step.line == ".") {
            // The content goes between DATA's 354 and the final dot.
            stream_->write(std::string_view(content).substr(pos));
            pos = content.size();
        }
        if (!command(step.expect, step.line)) return false;
    }
    return true;
}

namespace {

// The transaction's "client=" line; with a filter there is no queue ID.
void log_client(const Session& s) {
    const Xforward& xf = s.xforward;
    util::msg_info("NOQUEUE: client={}{}{}{}", s.namaddr, sasl_log_suffix(s),
                   xf.ident ? ", orig_queue_id=" + *xf.ident : std::string(),
                   xf.client ? ", orig_client=" + xf.namaddr : std::string());
}

}  // namespace

bool proxy_enabled(const Server& server) {
    if (!server.config) return false;
    std::string service = server.config->get("smtpd_proxy_filter");
    return !util::trim(service).empty();
}

bool proxy_open(Server& server, Session& s) {
    auto proxy = std::make_shared<Proxy>(server, settings_of(server));
    s.arrival_time = std::time(nullptr);
    if (proxy->speed_adjust()) {
        proxy->recording = true;
        proxy->saved_mail_from = s.proxy_mail;
        s.proxy = std::move(proxy);
        log_client(s);
        return true;
    }
    if (!proxy->connect(s, s.proxy_mail)) {
        fail(server, s, proxy_format_reply(proxy->reply()));
        return false;
    }
    s.proxy = std::move(proxy);
    log_client(s);
    return true;
}

Outcome proxy_rcpt(Server& server, Session& s, const std::string& recipient) {
    if (!s.proxy && !proxy_open(server, s)) return Outcome::error;
    if (!s.proxy->command('2', s.command_line)) return fail(server, s, proxy_format_reply(s.proxy->reply()));
    s.rcpt_count++;
    if (s.recipient.empty()) s.recipient = recipient;   // the first one, as the reference keeps it
    reply(server, s, "250 2.1.5 Ok");
    return Outcome::ok;
}

std::string proxy_data(Server&, Session& s, std::string_view command) {
    if (!s.proxy->command('3', command)) return proxy_format_reply(s.proxy->reply());
    return {};
}

bool proxy_put(Session& s, std::string_view text, bool cont, bool stuff_dot) {
    if (!s.proxy) return false;
    if (stuff_dot && !s.proxy->put(".", true)) return false;
    return s.proxy->put(text, cont);
}

std::string proxy_finish(Server&, Session& s, bool& ok) {
    Proxy& p = *s.proxy;
    ok = false;
    if (p.recording) {
        p.command('0', ".");
        if (!p.replay(s)) return proxy_format_reply(p.reply());
    } else if (!p.command('0', ".")) {
        return proxy_format_reply(p.reply());
    }
    ok = !p.reply().empty() && p.reply().front() == '2';
    return proxy_format_reply(p.reply());
}

std::string proxy_reply(const Session& s) {
    return s.proxy ? proxy_format_reply(s.proxy->reply()) : std::string(kProxyFakeReply);
}

void proxy_close(Session& s) {
    if (s.proxy) s.proxy->close();
}

std::string proxy_format_reply(std::string_view stored) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (;;) {
        auto end = stored.find("\r\n", start);
        lines.emplace_back(stored.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) break;
        start = end + 2;
    }
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string& l = lines[i];
        if (l.size() >= 4) l[3] = i + 1 < lines.size() ? '-' : ' ';
        if (i) out += "\r\n";
        out += l;
    }
    return out;
}

}  // namespace pf::smtpd
