// The Dovecot SASL server back end, as the reference's plug-in uses
// Dovecot's auth socket: one connection per process, opened when a
// session first needs the mechanism list (smtpd_sasl_path: a path relative
// to the queue directory, "unix:path" or "inet:host:port"), our handshake
// then the server's, up to DONE; each AUTH gets the next request id; the
// client's base64 is passed on unchanged after a character check
// ("Invalid base64 data in initial response" / "... continued response");
// answers for other ids are skipped; a lost connection fails the step
// ("Connection lost to authentication server") and the next request
// reconnects once. Every read and write has a 10-second limit.
//
// Trust: the socket peer is the local Dovecot (or whatever listens
// there): lines are bounded (dovecot::kMaxLine) and parsed strictly.
#include "sasl/dovecot_protocol.h"
#include "sasl/sasl_server.h"

#include "dict/dict_tcp_connect.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace pf::sasl {

namespace {

constexpr int kTimeoutMs = 10000;

class Connection {
public:
    ~Connection() { close(); }

    bool is_open() const { return fd_ >= 0; }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        buf_.clear();
    }

    // Opens path within the 10-second limit (a server that accepts nothing
    // must not hang the SMTP session); false with a warning logged as the
    // reference words it. Address forms and their diagnostics are those of
    // the network tables' connect (dict/dict_tcp_connect.h).
    bool open(const std::string& path) {
        close();
        int err = 0;
        int fd = -1;
        std::string_view p = path;
        if (p.starts_with("inet:")) {
            fd = dict::tcp_connect(p.substr(5), kTimeoutMs / 1000, err);
        } else {
            if (p.starts_with("unix:")) p.remove_prefix(5);
            fd = dict::unix_socket_connect(p, kTimeoutMs / 1000, err);
        }
        if (fd < 0) {
            util::msg_warn("SASL: Connect to {} failed: {}", path, std::strerror(err));
            return false;
        }
        fd_ = fd;
        return true;
    }

    bool write_all(std::string_view data) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
        while (!data.empty()) {
            if (!wait(POLLOUT, deadline)) return false;
            ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // One line without its LF; nullopt on EOF, timeout or an over-long line.
    std::optional<std::string> read_line() {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
        for (;;) {
            auto nl = buf_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return line;
            }
            if (buf_.size() > dovecot::kMaxLine) return std::nullopt;
            if (!wait(POLLIN, deadline)) return std::nullopt;
            char chunk[4096];
            ssize_t n = ::read(fd_, chunk, sizeof chunk);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) return std::nullopt;
            buf_.append(chunk, static_cast<std::size_t>(n));
        }
    }

private:
    bool wait(short events, std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd pfd{fd_, events, 0};
            int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR) continue;
            return r > 0;
        }
    }

    int fd_ = -1;
    std::string buf_;
};

class DovecotBackend;

class DovecotSession final : public ServerSession {
public:
    DovecotSession(DovecotBackend& backend, SessionParams params, unsigned wanted)
        : backend_(backend), params_(std::move(params)), wanted_(wanted) {}

    std::string mechanism_list() override;
    AuthStatus first(std::string_view mechanism, std::optional<std::string_view> initial, std::string& reply) override;
    AuthStatus next(std::string_view response, std::string& reply) override;
    std::optional<std::string> username() override { return username_; }

private:
    AuthStatus handle_answer(std::string& reply);

    DovecotBackend& backend_;
    SessionParams params_;
    unsigned wanted_;
    unsigned last_id_ = 0;
    std::optional<std::string> username_;
};

class DovecotBackend final : public ServerBackend {
public:
    explicit DovecotBackend(std::string path) : path_(std::move(path)) {}

    std::expected<std::unique_ptr<ServerSession>, std::string> create(const SessionParams& params) override {
        auto opts = dovecot::security_options(params.security_options);
        if (!opts.bad_word.empty())
            util::msg_fatal("unknown security option \"{}\" in \"{}\"", opts.bad_word, params.security_options);
        return std::unique_ptr<ServerSession>(new DovecotSession(*this, params, opts.bits));
    }

    // Connected and greeted; false when the server cannot be reached.
    bool connect() {
        if (conn_.is_open()) return true;
        if (!conn_.open(path_)) return false;
        if (!conn_.write_all(dovecot::client_handshake(static_cast<unsigned>(::getpid())))) {
            util::msg_warn("SASL: Couldn't send handshake: {}", std::strerror(errno));
            conn_.close();
            return false;
        }
        dovecot::Handshake hs;
        for (;;) {
            auto line = conn_.read_line();
            if (!line) break;
            auto state = hs.feed(*line);
            if (state == dovecot::Handshake::State::done) {
                mechanisms_ = hs.mechanisms();
                return true;
            }
            if (state == dovecot::Handshake::State::error) {
                util::msg_warn("SASL: {}", hs.error());
                break;
            }
        }
        conn_.close();
        return false;
    }

    Connection& conn() { return conn_; }
    const std::vector<dovecot::Mechanism>& mechanisms() const { return mechanisms_; }
    unsigned next_id() { return ++request_id_; }

private:
    std::string path_;
    Connection conn_;
    std::vector<dovecot::Mechanism> mechanisms_;
    unsigned request_id_ = 0;
};

std::string DovecotSession::mechanism_list() {
    if (!backend_.connect()) return "";
    return dovecot::mechanism_list(backend_.mechanisms(), wanted_);
}

AuthStatus DovecotSession::first(std::string_view mechanism, std::optional<std::string_view> initial,
                                 std::string& reply) {
    // Only the mechanisms on offer are passed on.
    bool offered = false;
    if (backend_.connect()) {
        const std::string list = dovecot::mechanism_list(backend_.mechanisms(), wanted_);  // outlives the views
        for (auto name : util::split_tokens(list, " "))
            if (util::iequals(name, mechanism)) offered = true;
    }
    if (!offered) {
        reply = "Invalid authentication mechanism";
        return AuthStatus::fail;
    }
    if (initial && !dovecot::base64_chars_only(*initial)) {
        reply = "Invalid base64 data in initial response";
        return AuthStatus::fail;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!backend_.connect()) {
            reply = "Can't connect to authentication server";
            return AuthStatus::temp;
        }
        dovecot::AuthRequest r;
        r.id = last_id_ = backend_.next_id();
        r.mechanism = std::string(mechanism);
        r.service = params_.service;
        r.local_ip = params_.server_addr;
        r.remote_ip = params_.client_addr;
        r.secured = params_.tls;
        if (initial) r.initial = std::string(*initial);
        if (backend_.conn().write_all(dovecot::auth_request(r))) return handle_answer(reply);
        backend_.conn().close();
    }
    reply = "Can't connect to authentication server";
    return AuthStatus::temp;
}

AuthStatus DovecotSession::next(std::string_view response, std::string& reply) {
    if (!dovecot::base64_chars_only(response)) {
        reply = "Invalid base64 data in continued response";
        return AuthStatus::fail;
    }
    if (!backend_.conn().is_open() || !backend_.conn().write_all(dovecot::cont_request(last_id_, response))) {
        backend_.conn().close();
        reply = "Connection lost to authentication server";
        return AuthStatus::temp;
    }
    return handle_answer(reply);
}

AuthStatus DovecotSession::handle_answer(std::string& reply) {
    reply.clear();
    for (;;) {
        auto line = backend_.conn().read_line();
        if (!line) break;
        auto a = dovecot::parse_answer(*line);
        if (!a || a->id != last_id_) continue;   // another request's answer
        switch (a->kind) {
        case dovecot::Answer::Kind::ok:
            username_ = a->user;
            if (!username_) {
                util::msg_warn("missing Dovecot server OK username field");
                reply = "Authentication backend error";
                return AuthStatus::fail;
            }
            return AuthStatus::done;
        case dovecot::Answer::Kind::cont:
            reply = a->data;
            return AuthStatus::more;
        case dovecot::Answer::Kind::fail:
            username_ = a->user;
            // Even with Dovecot's "temp" flag the reference answers 535.
            reply = a->reason.value_or("");
            return AuthStatus::fail;
        case dovecot::Answer::Kind::other:
            continue;
        }
    }
    backend_.conn().close();
    reply = "Connection lost to authentication server";
    return AuthStatus::temp;
}

}  // namespace

std::unique_ptr<ServerBackend> make_dovecot_backend(std::string_view path) {
    return std::make_unique<DovecotBackend>(std::string(path));
}

}  // namespace pf::sasl
