// proxy:type:name, the proxymap client; see dict_proxy.h.
#include "dict/dict_proxy.h"

#include "config/config.h"
#include "dict/dict_registry.h"
#include "dict/dict_tcp_connect.h"
#include "util/msg.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

namespace pf::dict {
namespace {

std::optional<ProxyClientParams>& params_slot() {
    static std::optional<ProxyClientParams> params;
    return params;
}

const ProxyClientParams& params() {
    auto& slot = params_slot();
    if (!slot) {
        const char* env_dir = std::getenv("MAIL_CONFIG");
        config::Config cfg(config::resolve_config_directory(nullptr));
        cfg.load_main_cf(env_dir && *env_dir);
        ProxyClientParams p;
        p.queue_directory = cfg.get("queue_directory");
        p.proxymap_service = cfg.get("proxymap_service_name");
        p.proxywrite_service = cfg.get("proxywrite_service_name");
        std::string t = cfg.get("ipc_timeout");
        int v = 0;
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec == std::errc() && v > 0) p.ipc_timeout = end == t.data() + t.size() || *end == 's' ? v : p.ipc_timeout;
        slot = std::move(p);
    }
    return *slot;
}

using Attrs = std::vector<std::pair<std::string, std::string>>;

// One connection to a proxymap/proxywrite service, shared by every proxy:
// table that uses that service.
class ProxyClient {
public:
    ProxyClient(std::string dir, std::string service) : dir_(std::move(dir)), service_(std::move(service)) {}

    const std::string& service() const { return service_; }

    // Sends one request and reads its reply; nullopt when the connection
    // failed (closed then, errno text in error()).
    std::optional<std::map<std::string, std::string>> call(const Attrs& request) {
        connect_wait();
        int err = 0;
        if (stream_.write_all(proxy_encode(request), err) != TableStream::Status::ok) {
            last_errno_ = err;
            stream_.close();
            return std::nullopt;
        }
        std::map<std::string, std::string> reply;
        std::string line;
        for (;;) {
            line.clear();
            for (;;) {
                char c;
                TableStream::Status s = stream_.get(c, err);
                if (s != TableStream::Status::ok) {
                    last_errno_ = s == TableStream::Status::eof && err == 0 ? EPIPE : err;
                    stream_.close();
                    return std::nullopt;
                }
                if (c == '\n') break;
                if (line.size() > (1u << 21)) {
                    last_errno_ = EMSGSIZE;
                    stream_.close();
                    return std::nullopt;
                }
                line += c;
            }
            if (line.empty()) return reply;
            auto eq = line.find('=');
            if (eq == std::string::npos) {
                last_errno_ = EPROTO;
                stream_.close();
                return std::nullopt;
            }
            std::string value;
            for (size_t i = eq + 1; i < line.size(); ++i) {
                if (line[i] != '\\') {
                    value += line[i];
                    continue;
                }
                char n = i + 1 < line.size() ? line[++i] : 0;
                if (n == '\\') value += '\\';
                else if (n == 'n') value += '\n';
                else if (n == '0') value += '\0';
                else {
                    last_errno_ = EPROTO;
                    stream_.close();
                    return std::nullopt;
                }
            }
            reply.emplace(line.substr(0, eq), std::move(value));
        }
    }

    void recover() { stream_.close(); }
    int last_errno() const { return last_errno_; }
    std::string path() const { return dir_ + "/" + service_; }

private:
    // mail_connect_wait() of the reference: ten warnings ten seconds apart,
    // then a fatal error.
    void connect_wait() {
        if (stream_.is_open()) return;
        for (int count = 1;; ++count) {
            int err = 0;
            int fd = unix_socket_connect(path(), params().ipc_timeout, err);
            if (fd >= 0) {
                stream_ = TableStream(fd, params().ipc_timeout);
                return;
            }
            if (count >= 11) util::msg_fatal("connect #{} to subsystem {}: {}", count, path(), std::strerror(err));
            util::msg_warn("connect #{} to subsystem {}: {}", count, path(), std::strerror(err));
            ::sleep(10);
        }
    }

    std::string dir_;
    std::string service_;
    TableStream stream_;
    int last_errno_ = 0;
};

ProxyClient& client_for(bool write) {
    static std::map<bool, std::unique_ptr<ProxyClient>> clients;
    auto& slot = clients[write];
    if (!slot) {
        const ProxyClientParams& p = params();
        std::string service = write ? p.proxywrite_service : p.proxymap_service;
        std::string dir = ::access(("private/" + service).c_str(), F_OK) == 0 ? "private" : p.queue_directory + "/private";
        slot = std::make_unique<ProxyClient>(dir, service);
    }
    return *slot;
}

int status_of(const std::map<std::string, std::string>& reply) {
    auto it = reply.find("status");
    if (it == reply.end()) return -1;
    int v = -1;
    auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || end != it->second.data() + it->second.size()) return -1;
    return v;
}

// Flags the client passes along: the instance flags of the open, as the
// reference's DICT_FLAG_INST_MASK; the server decides the rest.
constexpr Flags kInstanceMask = kDupWarn | kDupIgnore | kDupReplace | kTryNul | kTryNoNul | kFoldFixed | kFoldMulti |
                                kLock | kSync | kUtf8Request | kUtf8Active | kNoRegSub | kSrcRhsIsFile;
constexpr Flags kImplMask = kPattern | kFixed;

class ProxyDict final : public Dict {
public:
    ProxyDict(std::string_view name, int open_flags, Flags flags, ProxyClient& client)
        : Dict("proxy", std::string(name), open_flags, flags), client_(client), inst_flags_(flags & kInstanceMask) {}

    // The first contact: the server opens the table and returns its flags.
    void open_remote() {
        for (;;) {
            auto reply = client_.call({{"request", "open"}, {"table", name()}, {"flags", std::to_string(inst_flags_)}});
            if (!reply) {
                int e = client_.last_errno();
                if (util::msg_verbose || (e != EPIPE && e != ENOENT))
                    util::msg_warn("{}: service dict_proxy_open: {}", client_.path(), std::strerror(e));
            } else {
                int status = status_of(*reply);
                switch (status) {
                case static_cast<int>(ProxyStatus::bad):
                    util::msg_fatal("{} open failed for table \"{}\": invalid request", client_.service(), name());
                case static_cast<int>(ProxyStatus::deny):
                    util::msg_fatal("{} service is not configured for table \"{}\"", client_.service(), name());
                case static_cast<int>(ProxyStatus::ok): {
                    Flags server = 0;
                    auto it = reply->find("flags");
                    if (it != reply->end()) std::from_chars(it->second.data(), it->second.data() + it->second.size(), server);
                    set_flags((flags() & ~kImplMask) | (server & kImplMask));
                    return;
                }
                default:
                    util::msg_warn("{} open failed for table \"{}\": unexpected status {}", client_.service(), name(), status);
                }
            }
            client_.recover();
            ::sleep(1);
        }
    }

    LookupResult lookup(std::string_view key) override {
        set_error({});
        auto reply = request("lookup", "lookup", key, {{"key", std::string(key)}}, [&](int status) {
            if (status == static_cast<int>(ProxyStatus::bad))
                util::msg_fatal("{} lookup failed for table \"{}\" key \"{}\": invalid request", client_.service(), name(), key);
            if (status == static_cast<int>(ProxyStatus::deny))
                util::msg_fatal("{} service is not configured for table \"{}\"", client_.service(), name());
        });
        int status = reply.first;
        if (status == static_cast<int>(ProxyStatus::ok)) return LookupResult::found(reply.second["value"]);
        if (status == static_cast<int>(ProxyStatus::nokey)) return LookupResult::not_found();
        return fail(status);
    }

    ChangeStatus update(std::string_view key, std::string_view value) override {
        auto reply = request("update", "update", key, {{"key", std::string(key)}, {"value", std::string(value)}},
                             [&](int status) { change_fatal(status, "update", key); });
        return change_result(reply.first);
    }

    ChangeStatus remove(std::string_view key) override {
        auto reply =
            request("delete", "delete", key, {{"key", std::string(key)}}, [&](int status) { change_fatal(status, "delete", key); });
        return change_result(reply.first);
    }

    std::optional<Entry> sequence(SequenceStart where) override {
        const char* fn = where == SequenceStart::first ? "first" : "next";
        auto reply = request("sequence", "sequence", fn, {{"function", fn}}, [&](int status) {
            if (status == static_cast<int>(ProxyStatus::bad))
                util::msg_fatal("{} sequence failed for table \"{}\" function {}: invalid request", client_.service(), name(), fn);
            if (status == static_cast<int>(ProxyStatus::deny))
                util::msg_fatal("{} service is not configured for table \"{}\"", client_.service(), name());
        });
        if (reply.first == static_cast<int>(ProxyStatus::ok)) return Entry{reply.second["key"], reply.second["value"]};
        if (reply.first != static_cast<int>(ProxyStatus::nokey)) fail(reply.first);
        return std::nullopt;
    }

private:
    template <typename OnFatal>
    std::pair<int, std::map<std::string, std::string>> request(const char* what, const char* label, std::string_view subject,
                                                               Attrs extra, OnFatal on_fatal) {
        Attrs attrs{{"request", what},
                    {"table", name()},
                    {"flags", std::to_string(inst_flags_ | (flags() & (kFoldFixed | kFoldMulti | kTryNul | kTryNoNul)))}};
        for (auto& a : extra) attrs.push_back(std::move(a));
        for (int count = 1;; ++count) {
            auto reply = client_.call(attrs);
            if (!reply) {
                int e = client_.last_errno();
                if (util::msg_verbose || count > 1 || (e && e != EPIPE && e != ENOENT))
                    util::msg_warn("dict_proxy_{}: service {}: {}", label, client_.path(), std::strerror(e));
            } else {
                int status = status_of(*reply);
                on_fatal(status);
                if (status >= 0 && status <= static_cast<int>(ProxyStatus::config) &&
                    status != static_cast<int>(ProxyStatus::bad) && status != static_cast<int>(ProxyStatus::deny))
                    return {status, std::move(*reply)};
                util::msg_warn("{} {} failed for table \"{}\" {} \"{}\": unexpected reply status {}", client_.service(), what,
                               name(), std::string_view(what) == "sequence" ? "function" : "key", subject, status);
            }
            client_.recover();
            ::sleep(1);
        }
    }

    void change_fatal(int status, const char* what, std::string_view key) {
        if (status == static_cast<int>(ProxyStatus::bad))
            util::msg_fatal("{} {} failed for table \"{}\" key \"{}\": invalid request", client_.service(), what, name(), key);
        if (status == static_cast<int>(ProxyStatus::deny))
            util::msg_fatal("{} update access is not configured for table \"{}\"", client_.service(), name());
    }

    ChangeStatus change_result(int status) {
        if (status == static_cast<int>(ProxyStatus::ok)) return ChangeStatus::done;
        if (status == static_cast<int>(ProxyStatus::nokey)) return ChangeStatus::not_found;
        fail(status);
        return ChangeStatus::failed;
    }

    LookupResult fail(int status) {
        // With no system error behind it (the server answered "try again"),
        // the reference's text is "Application error".
        Error e{status == static_cast<int>(ProxyStatus::config) ? Error::Kind::config : Error::Kind::retry,
                client_.last_errno() ? std::string(std::strerror(client_.last_errno())) : std::string("Application error")};
        set_error(e);
        return LookupResult::failed(std::move(e));
    }

    ProxyClient& client_;
    Flags inst_flags_;
};

}  // namespace

void set_proxy_client_params(const ProxyClientParams& p) { params_slot() = p; }

std::string proxy_encode(const Attrs& attrs) {
    std::string out;
    for (const auto& [name, value] : attrs) {
        out += name;
        out += '=';
        for (char c : value) {
            if (c == '\\') out += "\\\\";
            else if (c == '\n') out += "\\n";
            else if (c == '\0') out += "\\0";
            else out += c;
        }
        out += '\n';
    }
    out += '\n';
    return out;
}

void register_proxy_type() {
    register_type("proxy", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        if (flags & kNoProxy) return open(name, open_flags, flags);
        bool write;
        if ((open_flags & O_ACCMODE) == O_RDONLY && !(open_flags & (O_CREAT | O_TRUNC)))
            write = false;
        else if ((open_flags & O_ACCMODE) == O_RDWR)
            write = true;
        else
            util::msg_fatal("{}: proxy map open requires O_RDONLY or O_RDWR mode", name);
        auto d = std::make_unique<ProxyDict>(name, open_flags, flags, client_for(write));
        d->open_remote();
        return d;
    });
}

}  // namespace pf::dict
