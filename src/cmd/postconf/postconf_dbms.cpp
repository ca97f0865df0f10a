// postconf(1): checks of database table configuration files named in main.cf
// and master.cf "-o" settings, as the reference postconf does in every mode
// but -d.
//
// Reproduces: the value of every built-in or per-service parameter (not the
// "raw" ones, not user-defined names) that main.cf or a master.cf "-o" sets is
// expanded ($name, recursively; a master.cf service's own "-o" settings come
// first) and split into tokens on white space and commas, "{...}" groups
// kept whole. A token "{...}" is taken apart and split again; a token
// "type:rest" loses any leading "proxy:" layers; a "rest" of "{...}" is taken
// apart and split again; for type ldap, mysql, pgsql, sqlite or memcache:
//  - "type:/path": the file is read once per "type:/path" (with main.cf's
//    line rules) and each setting the type does not know draws
//    "type:/path: unused parameter: name=value"; an unreadable file draws
//    'open "type" configuration "/path": reason' (permission denied is quiet);
//  - "type:name": the parameters name_<setting> of that type become used.
// An expansion error is fatal ("macro processing error"), as in the reference.
//
// Trust: configuration files and the table files they name are admin-written
// but may hold anything; a table file is only read, never executed, and a
// non-regular file (FIFO, device, directory) is reported, not read.
#include "postconf.h"
#include "postconf_dbms.h"

#include "config/main_cf.h"
#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/unique_fd.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::postconf {
namespace {

constexpr std::string_view kTableSeparators = ", \t\r\n";

// Names and values one master.cf service sets with "-o", and the legacy
// table parameters found to be used in that service's scope.
struct ServiceScope {
    std::string origin;  // "master.cf:name/type"
    std::map<std::string, std::string, std::less<>> params;
    std::set<std::string, std::less<>> used;
};

// Per-service scopes, indexed like State::master; filled by the last
// check_database_tables call.
std::vector<ServiceScope> g_scopes;

using Fd = util::UniqueFd;

// The "-o name=value" settings of a master.cf entry, as the reference reads
// them: options up to the first word that is not an option (or "--"); "-o"
// takes the next word, "name=value" or "{ name = value }"; a later setting of
// a name replaces an earlier one.
std::map<std::string, std::string, std::less<>> service_settings(const config::MasterEntry& e) {
    std::map<std::string, std::string, std::less<>> out;
    for (size_t i = 0; i < e.args.size(); ++i) {
        const std::string& arg = e.args[i];
        if (arg.empty() || arg[0] != '-' || arg == "--") break;
        if (arg != "-o" || i + 1 >= e.args.size()) continue;
        std::string_view kv = e.args[++i];
        if (kv.starts_with("{")) kv = util::strip_braces(kv).inner;
        std::string error;
        if (auto nv = config::split_name_value(kv, error)) out[nv->name] = nv->value;
    }
    return out;
}

class DbmsChecker {
public:
    explicit DbmsChecker(State& st) : st_(st) {}

    // Expands one parameter value in scope (nullptr: main.cf) and checks the
    // tables it names.
    void check_value(std::string_view value, ServiceScope* scope) {
        config::ExpandHooks hooks;
        hooks.recurse = true;
        hooks.lookup = [&](std::string_view name) -> std::optional<std::string> {
            if (scope) {
                if (auto it = scope->params.find(name); it != scope->params.end()) return it->second;
            }
            return st_.config.raw_value(name);
        };
        auto r = config::expand(value, hooks);
        if (r.status != config::ExpandStatus::ok) util::msg_fatal("macro processing error");
        walk(r.text, scope);
    }

private:
    void brace_error(const std::string& error, const ServiceScope* scope) {
        if (error.empty()) return;
        util::msg_warn("{}: {}", scope ? std::string_view(scope->origin) : std::string_view("main.cf"), error);
    }

    void walk(std::string_view text, ServiceScope* scope) {
        std::string_view cursor = text;
        while (auto token = util::next_braced_token(cursor, kTableSeparators)) {
            if (token->starts_with("{")) {
                auto b = util::strip_braces(*token);
                brace_error(b.error, scope);
                walk(b.inner, scope);
                continue;
            }
            std::string_view type = *token;
            std::string_view rest;
            auto split = [&] {
                size_t colon = type.find(':');
                if (colon == std::string_view::npos) return false;
                rest = type.substr(colon + 1);
                type = type.substr(0, colon);
                return !rest.empty();
            };
            if (!split()) continue;
            bool ok = true;
            while (ok && type == "proxy") {
                type = rest;
                ok = split();
            }
            if (!ok) continue;
            if (rest.starts_with("{")) {
                auto b = util::strip_braces(rest);
                brace_error(b.error, scope);
                walk(b.inner, scope);
                continue;
            }
            auto settings = dbms_settings(type);
            if (settings.empty()) continue;
            if (rest.starts_with("/")) {
                check_file(type, rest, settings);
            } else {
                for (auto s : settings) flag_parameter(fmt::format("{}_{}", rest, s), scope);
            }
        }
    }

    // A legacy "name_setting" parameter is used: in the service's scope when
    // the service sets it with -o, otherwise in main.cf when set there.
    void flag_parameter(const std::string& name, ServiceScope* scope) {
        if (scope && scope->params.count(name)) {
            scope->used.insert(name);
        } else if (st_.config.main_cf().find(name)) {
            st_.user_defined.insert(name);
        }
    }

    void check_file(std::string_view type, std::string_view path_view, std::span<const std::string_view> settings) {
        std::string dict_name = fmt::format("{}:{}", type, path_view);
        if (!checked_.insert(dict_name).second) return;
        std::string path(path_view);
        Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        if (fd.get() < 0) {
            if (errno != EACCES) util::msg_warn("open \"{}\" configuration \"{}\": {}", type, path, std::strerror(errno));
            return;
        }
        struct stat sb;
        if (::fstat(fd.get(), &sb) < 0) {
            util::msg_warn("open \"{}\" configuration \"{}\": {}", type, path, std::strerror(errno));
            return;
        }
        if (!S_ISREG(sb.st_mode)) {
            util::msg_warn("open \"{}\" configuration \"{}\": not a regular file", type, path);
            return;
        }
        std::string content;
        char buf[8192];
        for (;;) {
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) util::msg_fatal("read {}: {}", path, std::strerror(errno));
            if (n == 0) break;
            content.append(buf, static_cast<size_t>(n));
        }
        auto cf = config::MainCf::parse(content, path);
        for (const auto& a : cf.entries()) {
            bool known = false;
            for (auto s : settings) known = known || s == a.name;
            if (!known) util::msg_warn("{}: unused parameter: {}={}", dict_name, a.name, a.value);
        }
    }

    State& st_;
    std::set<std::string, std::less<>> checked_;  // "type:/path" already read
};

// Values the reference examines: those of built-in and per-service
// parameters, except the raw ones whose $names belong to delivery time.
bool is_scanned(const State& st, std::string_view name) {
    return st.config.is_builtin_or_service(name) && st.config.type_of(name) != config::ParamType::Raw;
}

}  // namespace

void check_database_tables(State& st) {
    g_scopes.clear();
    for (const auto& e : st.master)
        g_scopes.push_back(ServiceScope{fmt::format("master.cf:{}/{}", e.name, e.type), service_settings(e), {}});

    DbmsChecker checker(st);
    for (const auto& a : st.config.main_cf().entries())
        if (is_scanned(st, a.name)) checker.check_value(a.value, nullptr);
    for (auto& scope : g_scopes)
        for (const auto& [name, value] : scope.params)
            if (is_scanned(st, name)) checker.check_value(value, &scope);
}

bool is_dbms_service_parameter(size_t master_index, std::string_view name) {
    return master_index < g_scopes.size() && g_scopes[master_index].used.count(name) > 0;
}

}  // namespace pf::postconf
