// socketmap:inet:host:port:name and socketmap:unix:/path:name — the client
// of a Sendmail-style socketmap server (socketmap_table(5) of the
// reference). One request per lookup, "<name> <key>" as a netstring; one
// netstring reply, at most 100000 bytes:
//   "OK <value>"        found ("OK" alone: not found; the value ends at a NUL)
//   "NOTFOUND "         not found
//   "TEMP <reason>", "TIMEOUT <reason>", anything else: a temporary error
//   "PERM <reason>"     a configuration error
// with the reference's warnings ("<type>:<name> socketmap server temporary
// error: <reason>", "table <type>:<name> lookup error: unexpected
// disconnect", "connect to <endpoint>: <errno text>", ...). Tables with the
// same endpoint share one connection, kept open across lookups; a
// connection the server dropped is retried once per lookup. Every read and
// write has a 100-second time limit. Read-only; keys fold only with
// kFoldMulti (a pattern-style table for the callers).
//
// Trust: the map name comes from main.cf or the command line; replies are
// arbitrary bytes, bounded and checked.
#include "dict/dict_registry.h"
#include "dict/dict_tcp_connect.h"
#include "dict/dict_utf8.h"
#include "util/msg.h"
#include "util/utf8.h"

#include <fcntl.h>
#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

namespace pf::dict {
namespace {

constexpr int kTimeout = 100;
constexpr size_t kMaxReply = 100000;

enum class NetstringError { none, eof, time, format, size };

const char* netstring_text(NetstringError e) {
    switch (e) {
    case NetstringError::eof: return "unexpected disconnect";
    case NetstringError::time: return "time limit exceeded";
    case NetstringError::format: return "input format error";
    case NetstringError::size: return "input exceeds size limit";
    default: return "unknown netstring error";
    }
}

// One server endpoint ("inet:host:port" or "unix:/path"), shared by every
// socketmap table that names it.
struct Endpoint {
    bool inet = false;
    std::string address;  // host:port or path
    TableStream stream;
    // The errno the reference would show now. Before any connect it is
    // what the reference's start-up left behind (ENOENT: a configuration
    // file it looked for and did not find); a UNIX-domain connect that
    // succeeds at once does not change it.
    int last_errno = ENOENT;

    bool connect() {
        int err = last_errno;
        int fd = inet ? tcp_connect(address, kTimeout, err) : unix_socket_connect(address, kTimeout, err);
        last_errno = err;
        if (fd < 0) {
            util::msg_warn("connect to {}: {}", address, std::strerror(err));
            return false;
        }
        stream = TableStream(fd, kTimeout);
        return true;
    }
};

std::map<std::string, std::weak_ptr<Endpoint>>& endpoints() {
    static std::map<std::string, std::weak_ptr<Endpoint>> all;
    return all;
}

NetstringError status_error(TableStream::Status s) {
    return s == TableStream::Status::timeout ? NetstringError::time : NetstringError::eof;
}

// Reads one netstring of at most kMaxReply bytes.
NetstringError read_netstring(Endpoint& ep, std::string& out) {
    out.clear();
    size_t len = 0;
    for (;;) {
        char c;
        int err = ep.last_errno;
        TableStream::Status s = ep.stream.get(c, err);
        if (s != TableStream::Status::ok) {
            if (err) ep.last_errno = err;
            return status_error(s);
        }
        if (c == ':') break;
        if (c < '0' || c > '9') return NetstringError::format;
        if (len > (SIZE_MAX >> 4)) return NetstringError::size;
        len = len * 10 + static_cast<size_t>(c - '0');
    }
    if (len > kMaxReply) return NetstringError::size;
    int err = ep.last_errno;
    TableStream::Status s = ep.stream.read_exact(len, out, err);
    if (s != TableStream::Status::ok) {
        if (err) ep.last_errno = err;
        return status_error(s);
    }
    char term = 0;
    s = ep.stream.get(term, err);
    if (s == TableStream::Status::timeout) {
        ep.last_errno = err;
        return NetstringError::time;
    }
    if (s != TableStream::Status::ok || term != ',') return NetstringError::format;
    return NetstringError::none;
}

class SocketmapDict final : public Dict {
public:
    SocketmapDict(std::string_view name, int open_flags, Flags flags, std::shared_ptr<Endpoint> ep, std::string map)
        : Dict("socketmap", std::string(name), open_flags, flags | kPattern), ep_(std::move(ep)), map_(std::move(map)) {}

    LookupResult lookup(std::string_view k) override {
        set_error({});
        if (util::msg_verbose) util::msg_info("dict_sockmap_lookup: key {}", k);
        std::string key = (flags() & kFoldMulti) ? fold_key(k) : std::string(k);
        auto nul = key.find('\0');
        if (nul != std::string::npos) key.resize(nul);
        Endpoint& ep = *ep_;
        std::string reply;
        for (int attempt = 0;; ++attempt) {
            if (!ep.stream.is_open() && !ep.connect()) {
                util::msg_warn("table {} lookup error: {}", type_name(), std::strerror(ep.last_errno));
                return fail(Error::Kind::retry, std::strerror(ep.last_errno));
            }
            std::string request = map_ + " " + key;
            std::string wire = std::to_string(request.size()) + ":" + request + ",";
            int err = ep.last_errno;
            NetstringError e = NetstringError::none;
            TableStream::Status s = ep.stream.write_all(wire, err);
            if (s != TableStream::Status::ok) {
                if (err) ep.last_errno = err;
                e = status_error(s);
            } else {
                e = read_netstring(ep, reply);
            }
            if (e == NetstringError::none) break;
            if (attempt == 0 && e == NetstringError::eof && ep.last_errno != ETIMEDOUT) {
                ep.stream.close();
                continue;
            }
            ep.stream.close();
            util::msg_warn("table {} lookup error: {}", type_name(), netstring_text(e));
            return fail(Error::Kind::retry, std::strerror(ep.last_errno));
        }
        // The reply is a C string to the reference: it ends at a NUL.
        auto rnul = reply.find('\0');
        if (rnul != std::string::npos) reply.resize(rnul);
        auto space = reply.find(' ');
        std::string_view word = std::string_view(reply).substr(0, space);
        bool has_payload = space != std::string::npos;
        std::string_view payload = has_payload ? std::string_view(reply).substr(space + 1) : std::string_view();
        if (word == "OK") {
            if (!has_payload) return LookupResult::not_found();
            return LookupResult::found(std::string(payload));
        }
        if (word == "NOTFOUND") return LookupResult::not_found();
        const char* error_class = "unknown";
        Error::Kind kind = Error::Kind::retry;
        if (word == "TEMP") {
            error_class = "temporary";
        } else if (word == "TIMEOUT") {
            error_class = "timeout";
        } else if (word == "PERM") {
            error_class = "permanent";
            kind = Error::Kind::config;
        }
        while (!payload.empty() && (payload.front() == ' ' || (payload.front() >= '\t' && payload.front() <= '\r')))
            payload.remove_prefix(1);
        std::string shown;
        if (!payload.empty()) {
            shown = util::printable(payload, utf8_support());
            if (shown.size() > 200) shown.resize(200);
        }
        util::msg_warn("{} socketmap server {} error{}{}", type_name(), error_class, shown.empty() ? "" : ": ", shown);
        return fail(kind, kind == Error::Kind::config ? std::string() : std::strerror(ep.last_errno));
    }

private:
    LookupResult fail(Error::Kind kind, std::string text) {
        Error e{kind, std::move(text)};
        set_error(e);
        return LookupResult::failed(std::move(e));
    }

    std::shared_ptr<Endpoint> ep_;
    std::string map_;
};

OpenResult open_socketmap(std::string_view name, int open_flags, Flags flags) {
    if ((open_flags & O_ACCMODE) != O_RDONLY || (open_flags & (O_CREAT | O_TRUNC)))
        return std::unexpected(Error{Error::Kind::config, fmt::format("socketmap:{} map requires O_RDONLY access mode", name)});
    if (flags & kNoUnauth)
        return std::unexpected(
            Error{Error::Kind::config, fmt::format("socketmap:{} map is not allowed for security-sensitive data", name)});
    auto last = name.rfind(':');
    if (last == std::string_view::npos) util::msg_fatal("socketmap requires server:socketmap argument");
    std::string service(name.substr(0, last));
    std::string map(name.substr(last + 1));
    auto colon = service.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == service.size())
        util::msg_fatal("need service transport:endpoint instead of \"{}\"", service);
    std::string transport = service.substr(0, colon);
    if (transport != "inet" && transport != "unix" && transport != "local")
        util::msg_fatal("invalid transport name: {} in service: {}", transport, service);
    std::shared_ptr<Endpoint> ep = endpoints()[service].lock();
    if (!ep) {
        ep = std::make_shared<Endpoint>();
        ep->inet = transport == "inet";
        ep->address = service.substr(colon + 1);
        endpoints()[service] = ep;
    }
    return std::make_unique<SocketmapDict>(name, open_flags, flags, std::move(ep), std::move(map));
}

}  // namespace

void register_socketmap_type() { register_type("socketmap", open_socketmap); }

}  // namespace pf::dict
