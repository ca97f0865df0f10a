// memcache:/path/to/file — a memcached server as a table, with an optional
// persistent backup table (memcache_table(5) of the reference). The file
// has main.cf syntax; its settings and defaults:
//   memcache = inet:localhost:11211 (or unix:/path), backup = (none),
//   key_format = %s, domain = (none), ttl = 3600, flags = 0, timeout = 2,
//   max_try = 2, retry_pause = 1, line_size_limit = 1024,
//   data_size_limit = 10240.
// A lookup validates the key (skipped without a word: empty key, domain
// mismatch, empty expansion, white space in the expanded key), sends
// "get <key>\r\n" and reads "VALUE <key> <flags> <n>\r\n<n bytes>\r\nEND\r\n"
// or "END\r\n"; on failure it retries (max_try, retry_pause seconds apart,
// warning from the second attempt on: "database memcache:<file>: I/O
// error[: <errno text>]", "<file>: unexpected memcache server reply: ...").
// Not found in memcache: the backup table is asked, and what it finds is
// stored in memcache ("set <key> <flags> <ttl> <n>\r\n<value>\r\n",
// expecting "STORED"). Opened read-write, updates and deletes go to
// memcache and then the backup. Walks need the backup ("database
// memcache:<file>: first/next support requires backup database").
//
// Trust: the file comes from the administrator; replies are arbitrary
// bytes, bounded by the size limits.
#include "dict/dict_registry.h"
#include "dict/dict_tcp_connect.h"
#include "dict/sql_config.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace pf::dict {
namespace {

struct McSettings {
    std::string memcache = "inet:localhost:11211";
    std::string key_format = "%s";
    std::vector<std::string> domains;
    int timeout = 2, ttl = 3600, mc_flags = 0, retry_pause = 1, max_try = 2, max_line = 1024, max_data = 10240;
};

bool uses_partial_key(const std::string& format) {
    for (size_t i = 0; i + 1 < format.size(); ++i) {
        if (format[i] != '%') continue;
        char c = format[++i];
        if (c == 'u' || c == 'd' || c == 'U' || c == 'D' || (c >= '1' && c <= '9')) return true;
    }
    return false;
}

// key_format expansion without quoting (db_common_expand of the reference
// with no separate key): false when a part the format needs is missing.
bool expand_key(const std::string& format, const std::string& value, std::string& out) {
    out.clear();
    auto at = value.rfind('@');
    std::string user = at == std::string::npos ? value : value.substr(0, at);
    std::optional<std::string> domain;
    if (at != std::string::npos) domain = value.substr(at + 1);
    for (size_t i = 0; i < format.size(); ++i) {
        char c = format[i];
        if (c != '%' || i + 1 >= format.size()) {
            out += c;
            continue;
        }
        c = format[++i];
        switch (c) {
        case '%': out += '%'; break;
        case 's': case 'S': out += value; break;
        case 'u': case 'U': if (user.empty()) return false; out += user; break;
        case 'd': case 'D': if (!domain || domain->empty()) return false; out += *domain; break;
        default:
            if (c >= '1' && c <= '9') {
                if (!domain) return false;
                auto labels = util::split_tokens(*domain, ".");
                size_t n = static_cast<size_t>(c - '0');
                if (n > labels.size()) return false;
                out += labels[labels.size() - n];
            } else {
                out += '%';
                out += c;
            }
        }
    }
    return true;
}

class MemcacheDict final : public Dict {
public:
    MemcacheDict(std::string_view name, int open_flags, Flags flags, McSettings s, DictPtr backup)
        : Dict("memcache", std::string(name), open_flags, flags), s_(std::move(s)), backup_(std::move(backup)) {
        auto colon = s_.memcache.find(':');
        std::string transport = s_.memcache.substr(0, colon);
        inet_ = transport == "inet";
        address_ = s_.memcache.substr(colon + 1);
    }

    LookupResult lookup(std::string_view name) override {
        set_error({});
        if (!valid_key(name, "lookup", false)) return LookupResult::not_found();
        std::optional<std::string> value = mc_get();
        if (!value && backup_) {
            LookupResult r = backup_->lookup(name);
            if (r.is_error()) {
                set_error(r.error());
                return r;
            }
            if (r.is_found()) {
                value = r.value();
                mc_set(*value);
            }
        }
        // With a backup, its answer counts; without, a memcache failure is
        // a temporary error.
        if (value) return LookupResult::found(std::move(*value));
        if (!backup_ && mc_errno_) return fail(Error::Kind::retry);
        return LookupResult::not_found();
    }

    ChangeStatus update(std::string_view name, std::string_view value) override {
        if (!(open_flags() & O_RDWR)) return Dict::update(name, value);
        if (!valid_key(name, "update", true)) {
            set_error({Error::Kind::retry, std::strerror(last_errno_ ? last_errno_ : EAGAIN)});
            return ChangeStatus::failed;
        }
        mc_set(std::string(value));
        if (backup_) return backup_->update(name, value);
        if (mc_errno_) {
            set_error({Error::Kind::retry, std::strerror(last_errno_ ? last_errno_ : EAGAIN)});
            return ChangeStatus::failed;
        }
        return ChangeStatus::done;
    }

    ChangeStatus remove(std::string_view name) override {
        if (!(open_flags() & O_RDWR)) return Dict::remove(name);
        if (!valid_key(name, "delete", false)) return ChangeStatus::not_found;
        ChangeStatus st = mc_delete();
        if (backup_) return backup_->remove(name);
        if (mc_errno_) {
            set_error({Error::Kind::retry, std::strerror(last_errno_ ? last_errno_ : EAGAIN)});
            return ChangeStatus::failed;
        }
        return st;
    }

    std::optional<Entry> sequence(SequenceStart where) override {
        if (!backup_) {
            util::msg_warn("database memcache:{}: first/next support requires backup database", name());
            return std::nullopt;
        }
        return backup_->sequence(where);
    }

private:
    LookupResult fail(Error::Kind kind) {
        Error e{kind, std::strerror(last_errno_ ? last_errno_ : EAGAIN)};
        set_error(e);
        return LookupResult::failed(std::move(e));
    }

    bool valid_key(std::string_view raw, const char* operation, bool noisy) {
        std::string name(raw);
        auto skip = [&](const char* why) {
            if (util::msg_verbose || noisy)
                (noisy ? util::msg_warn_text : util::msg_info_text)(
                    fmt::format("{}: skipping {} for name \"{}\": {}", this->name(), operation, name, why));
            return false;
        };
        if (name.empty()) return skip("empty lookup key");
        if (!s_.domains.empty()) {
            auto at = name.rfind('@');
            bool ok = false;
            if (at != std::string::npos) {
                std::string d = util::to_lower(name.substr(at + 1));
                for (const auto& dom : s_.domains)
                    if (d == dom) ok = true;
            }
            if (!ok) return skip("domain mismatch");
        }
        std::string folded = (flags() & kFoldFixed) ? util::to_lower(name) : name;
        if (s_.key_format != "%s") {
            if (!expand_key(s_.key_format, folded, key_)) key_.clear();
        } else {
            key_ = folded;
        }
        if (key_.empty()) return skip("empty lookup key expansion");
        for (unsigned char c : key_)
            if (c < 0x80 && (c == ' ' || (c >= '\t' && c <= '\r'))) return skip("name contains space");
        return true;
    }

    bool access() {
        if (stream_.is_open()) return true;
        int err = last_errno_;
        int fd = inet_ ? tcp_connect(address_, s_.timeout, err) : unix_socket_connect(address_, s_.timeout, err);
        last_errno_ = err;
        if (fd < 0) {
            util::msg_warn("connect to {}: {}", address_, std::strerror(err));
            return false;
        }
        stream_ = TableStream(fd, s_.timeout);
        return true;
    }

    bool put_line(const std::string& line) {
        int err = 0;
        if (stream_.write_all(line + "\r\n", err) != TableStream::Status::ok) {
            last_errno_ = err;
            return false;
        }
        return true;
    }

    // One reply line without its CR LF; false on EOF, timeout or a line
    // over line_size_limit.
    bool get_line(std::string& line) {
        line.clear();
        int err = 0;
        for (int n = 0; n < s_.max_line; ++n) {
            char c;
            if (stream_.get(c, err) != TableStream::Status::ok) {
                last_errno_ = err;
                return false;
            }
            if (c == '\n') {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                return true;
            }
            line += c;
        }
        return false;
    }

    void io_warning() {
        if (last_errno_)
            util::msg_warn("database memcache:{}: I/O error: {}", name(), std::strerror(last_errno_));
        else
            util::msg_warn("database memcache:{}: I/O error", name());
    }

    std::optional<std::string> mc_get() {
        mc_errno_ = 1;
        std::string line;
        for (int count = 0; count < s_.max_try; ++count) {
            if (count > 0) ::sleep(static_cast<unsigned>(s_.retry_pause));
            if (!access()) break;
            if (!put_line("get " + key_) || !get_line(line)) {
                if (count > 0) io_warning();
            } else if (line == "END") {
                mc_errno_ = 0;
                return std::nullopt;
            } else {
                long todo = -1;
                if (std::sscanf(line.c_str(), "VALUE %*s %*s %ld", &todo) != 1 || todo < 0 || todo > s_.max_data) {
                    if (count > 0)
                        util::msg_warn("{}: unexpected memcache server reply: {}", name(), line.substr(0, 30));
                } else {
                    std::string data;
                    int err = 0;
                    std::string crlf;
                    if (stream_.read_exact(static_cast<size_t>(todo), data, err) != TableStream::Status::ok ||
                        !get_line(crlf) || !crlf.empty()) {
                        if (count > 0) util::msg_warn("{}: EOF receiving memcache server reply", name());
                    } else {
                        mc_errno_ = 0;
                        if (!get_line(line) || line != "END") stream_.close();
                        auto nul = data.find('\0');
                        if (nul != std::string::npos) data.resize(nul);
                        return data;
                    }
                }
            }
            stream_.close();
        }
        return std::nullopt;
    }

    void mc_set(const std::string& value) {
        mc_errno_ = 1;
        if (static_cast<long>(value.size()) > s_.max_data) {
            util::msg_warn("database memcache:{}: data for key {} is too long (data_size_limit={}) -- not stored", name(),
                           key_, s_.max_data);
            return;
        }
        std::string line;
        for (int count = 0; count < s_.max_try; ++count) {
            if (count > 0) ::sleep(static_cast<unsigned>(s_.retry_pause));
            if (!access()) break;
            if (!put_line(fmt::format("set {} {} {} {}", key_, s_.mc_flags, s_.ttl, value.size())) || !put_line(value) ||
                !get_line(line)) {
                if (count > 0) io_warning();
            } else if (line != "STORED") {
                if (count > 0) util::msg_warn("database memcache:{}: update failed: {}", name(), line.substr(0, 30));
            } else {
                mc_errno_ = 0;
                return;
            }
            stream_.close();
        }
    }

    ChangeStatus mc_delete() {
        mc_errno_ = 1;
        std::string line;
        for (int count = 0; count < s_.max_try; ++count) {
            if (count > 0) ::sleep(static_cast<unsigned>(s_.retry_pause));
            if (!access()) break;
            if (!put_line("delete " + key_) || !get_line(line)) {
                if (count > 0) io_warning();
            } else if (line == "DELETED") {
                mc_errno_ = 0;
                return ChangeStatus::done;
            } else if (line == "NOT_FOUND") {
                mc_errno_ = 0;
                return ChangeStatus::not_found;
            } else {
                if (count > 0) util::msg_warn("database memcache:{}: delete failed: {}", name(), line.substr(0, 30));
            }
            stream_.close();
        }
        return ChangeStatus::failed;
    }

    McSettings s_;
    DictPtr backup_;
    bool inet_ = true;
    std::string address_;
    TableStream stream_;
    std::string key_;
    int mc_errno_ = 0;
    int last_errno_ = 0;
};

OpenResult open_memcache(std::string_view name, int open_flags, Flags flags) {
    if (flags & kNoUnauth) util::msg_fatal("memcache:{} map is not allowed for security-sensitive data", name);
    int mode = open_flags & O_ACCMODE;
    if (mode != O_RDONLY && mode != O_RDWR) util::msg_fatal("memcache:{} map requires O_RDONLY or O_RDWR access mode", name);
    auto cfg = SqlConfig::load(std::string(name));
    if (!cfg) util::msg_fatal("{}", cfg.error());
    McSettings s;
#define PF_MC_GET(var, expr)                          \
    do {                                              \
        auto r_ = (expr);                             \
        if (!r_) util::msg_fatal("{}", r_.error());   \
        var = *r_;                                    \
    } while (0)
    PF_MC_GET(s.key_format, cfg->get_str("key_format", "%s", 0, 0));
    PF_MC_GET(s.timeout, cfg->get_int("timeout", 2, 0, 0));
    PF_MC_GET(s.ttl, cfg->get_int("ttl", 3600, 0, 0));
    PF_MC_GET(s.mc_flags, cfg->get_int("flags", 0, 0, 0));
    PF_MC_GET(s.retry_pause, cfg->get_int("retry_pause", 1, 1, 0));
    PF_MC_GET(s.max_try, cfg->get_int("max_try", 2, 1, 0));
    PF_MC_GET(s.max_line, cfg->get_int("line_size_limit", 1024, 1, 0));
    PF_MC_GET(s.max_data, cfg->get_int("data_size_limit", 10240, 1, 0));
    PF_MC_GET(s.memcache, cfg->get_str("memcache", "inet:localhost:11211", 0, 0));
    auto colon = s.memcache.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.memcache.size())
        util::msg_fatal("need service transport:endpoint instead of \"{}\"", s.memcache);
    std::string transport = s.memcache.substr(0, colon);
    if (transport != "inet" && transport != "unix" && transport != "local")
        util::msg_fatal("invalid transport name: {} in service: {}", transport, s.memcache);
    DictPtr backup;
    if (auto b = cfg->raw("backup")) {
        auto opened = open_unwatched(*b, open_flags, flags);  // not registered by the reference
        if (!opened) util::msg_fatal("{}", opened.error().text);
        backup = std::move(*opened);
    }
    std::string domains;
    PF_MC_GET(domains, cfg->get_str("domain", "", 0, 0));
#undef PF_MC_GET
    for (auto d : util::split_tokens(domains, ", \t\r\n")) s.domains.push_back(util::to_lower(d));
    Flags kind = uses_partial_key(s.key_format) ? kPattern : kFixed;
    return std::make_unique<MemcacheDict>(name, open_flags, flags | kind, std::move(s), std::move(backup));
}

}  // namespace

void register_memcache_type() { register_type("memcache", open_memcache); }

}  // namespace pf::dict
