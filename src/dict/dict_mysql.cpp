// mysql:/path/to/file.cf — lookups in a MySQL/MariaDB database, as the
// reference's dict_mysql (mysql_table(5)): the file gives hosts, user,
// password, dbname, query (or the legacy table/select_field/where_field/
// additional_conditions), result_format, domain, expansion_limit,
// option_file, option_group, tls_*, require_result_set, idle_interval and
// retry_interval.
//
// Hosts: "unix:/socket", "inet:host[:port]" or "host[:port]"; an empty list
// means "localhost". Live connections are reused; otherwise UNIX sockets are
// tried before TCP, each kind in random order. A host that fails is skipped
// for retry_interval seconds (default 60). When no host answers, the lookup
// fails with a temporary error whose text is the errno left by the client
// library (the reference prints "query error: Operation now in progress" for
// a refused TCP connection), never "not found".
//
// Expansion follows the reference's db_common: %s %u %d %S %U %D %1-%9 and
// %%, quoted with mysql_real_escape_string in the query; a key that lacks what
// the templates need suppresses the query (not found, no server contact).
// Multiple values (rows x columns) are joined with commas.
//
// The client library is looked up when the first mysql: table is opened
// (mariadb_client.h), as the reference loads its mysql module then; a library
// that does not load is fatal with the reference's words for that.
//
// Trust: keys come from the network; they reach SQL only escaped. The
// configuration file is trusted (it holds the password).
#include "dict/dict_registry.h"
#include "dict/mariadb_client.h"
#include "dict/sql_config.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <fcntl.h>
#include <netdb.h>
#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <vector>

namespace pf::dict {
namespace {

struct MysqlCloser {
    void operator()(MYSQL* m) const {
        if (m) mariadb::client().close(m);
    }
};
using MysqlHandle = std::unique_ptr<MYSQL, MysqlCloser>;

struct ResultFreer {
    void operator()(MYSQL_RES* r) const {
        if (r) mariadb::client().free_result(r);
    }
};
using ResultHandle = std::unique_ptr<MYSQL_RES, ResultFreer>;

enum class HostState { untried, active, failed };

struct Host {
    std::string spec;  // as configured, for messages
    bool unix_socket = false;
    std::string name;  // host name or socket path
    unsigned port = 0;
    HostState state = HostState::untried;
    time_t retry_at = 0;
    time_t last_used = 0;
    MysqlHandle db;
};

// The flags of the reference's db_common context.
enum : unsigned {
    kKeyUser = 1u << 0,
    kKeyDomain = 1u << 1,
    kKeyPartial = 1u << 2,
    kValueUser = 1u << 3,
    kValueDomain = 1u << 4,
};

// Owning copies of util::split_tokens' words (they outlive their source here).
std::vector<std::string> split_words(std::string_view s, std::string_view seps) {
    std::vector<std::string> out;
    for (auto w : util::split_tokens(s, seps)) out.emplace_back(w);
    return out;
}


// Checks a template as db_common_parse does; adds to flags and nparts.
bool parse_template(const std::string& format, bool query, unsigned& flags, int& nparts) {
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') continue;
        if (++i >= format.size()) return false;
        char c = format[i];
        switch (c) {
        case '%':
        case 's':
        case 'S':
            break;
        case 'u':
            flags |= query ? kKeyUser : kValueUser;
            break;
        case 'U':
            flags |= kKeyUser;
            break;
        case 'd':
            flags |= query ? kKeyDomain : kValueDomain;
            break;
        case 'D':
            flags |= kKeyDomain;
            break;
        default:
            if (c >= '1' && c <= '9') {
                flags |= kKeyPartial;
                nparts = std::max(nparts, c - '0');
                break;
            }
            return false;
        }
    }
    return true;
}

// A domain list entry: a name (case-insensitive), "!name", a /file of names
// or a type:table.
struct DomainList {
    struct Item {
        bool negate = false;
        std::string name;
        DictPtr table;
    };
    std::vector<Item> items;

    bool match(const std::string& domain) const {
        std::string d = util::to_lower(domain);
        for (const auto& it : items) {
            bool hit = false;
            if (it.table) {
                hit = it.table->lookup(d).is_found();
            } else {
                hit = util::to_lower(it.name) == d;
            }
            if (hit) return !it.negate;
        }
        return false;
    }
};

class MysqlDict final : public Dict {
public:
    MysqlDict(std::string_view name, int open_flags, Flags flags) : Dict("mysql", std::string(name), open_flags, flags) {}

    std::expected<void, Error> configure();
    LookupResult lookup(std::string_view key) override;

private:
    bool expand(const std::string& format, const std::string& value, const std::string* key, std::string& out,
                MYSQL* quote_with);
    Host* active_host();
    void connect(Host& h);
    void down(Host& h) {
        h.db.reset();
        h.state = HostState::failed;
        h.retry_at = std::time(nullptr) + retry_interval_;
    }
    Host* pick(HostState want_a, HostState want_b, bool unix_socket);

    std::string user_, password_, dbname_, result_format_, query_;
    std::optional<std::string> option_file_, tls_key_, tls_cert_, tls_ca_file_, tls_ca_path_, tls_ciphers_;
    std::string option_group_;
    int tls_verify_ = -1;
    int expansion_limit_ = 0;
    bool require_result_set_ = true;
    int idle_interval_ = 60;
    int retry_interval_ = 60;
    unsigned tflags_ = 0;
    int nparts_ = 0;
    std::optional<DomainList> domain_;
    std::vector<Host> hosts_;
    std::mt19937 rng_{std::random_device{}()};
};

std::expected<void, Error> MysqlDict::configure() {
    auto fail = [](std::string text) { return std::unexpected(Error{Error::Kind::config, std::move(text)}); };
    auto cfg_or = SqlConfig::load(name());
    if (!cfg_or) return fail(cfg_or.error());
    const SqlConfig& cfg = *cfg_or;
#define PF_GET(var, expr)              \
    do {                               \
        auto r_ = (expr);              \
        if (!r_) return fail(r_.error()); \
        var = *r_;                     \
    } while (0)
    PF_GET(user_, cfg.get_str("user", "", 0, 0));
    PF_GET(password_, cfg.get_str("password", "", 0, 0));
    PF_GET(dbname_, cfg.get_str("dbname", "", 1, 0));
    PF_GET(result_format_, cfg.get_str("result_format", "%s", 1, 0));
    option_file_ = cfg.raw("option_file");
    PF_GET(option_group_, cfg.get_str("option_group", "client", 0, 0));
    tls_key_ = cfg.raw("tls_key_file");
    tls_cert_ = cfg.raw("tls_cert_file");
    tls_ca_file_ = cfg.raw("tls_CAfile");
    tls_ca_path_ = cfg.raw("tls_CApath");
    tls_ciphers_ = cfg.raw("tls_ciphers");
    if (cfg.raw("tls_verify_cert")) {
        bool v = false;
        PF_GET(v, cfg.get_bool("tls_verify_cert", false));
        tls_verify_ = v ? 1 : 0;
    }
    PF_GET(expansion_limit_, cfg.get_int("expansion_limit", 0, 0, 0));
    if (auto q = cfg.raw("query")) {
        query_ = *q;
    } else {
        std::string table, select_field, where_field, additional;
        PF_GET(table, cfg.get_str("table", "", 1, 0));
        PF_GET(select_field, cfg.get_str("select_field", "", 1, 0));
        PF_GET(where_field, cfg.get_str("where_field", "", 1, 0));
        PF_GET(additional, cfg.get_str("additional_conditions", "", 0, 0));
        query_ = "SELECT " + select_field + " FROM " + table + " WHERE " + where_field + "='%s' " + additional;
    }
    if (!parse_template(query_, true, tflags_, nparts_))
        return fail("db_common_parse: " + name() + ": Invalid query template: " + query_);
    if (!parse_template(result_format_, false, tflags_, nparts_))
        return fail("db_common_parse: " + name() + ": Invalid result template: " + result_format_);
    std::string domains;
    PF_GET(domains, cfg.get_str("domain", "", 0, 0));
    if (!domains.empty()) {
        DomainList list;
        for (auto& w : split_words(domains, ", \t\r\n")) {
            DomainList::Item item;
            std::string word = w;
            if (word[0] == '!') {
                item.negate = true;
                word.erase(0, 1);
            }
            if (!word.empty() && word[0] == '/') {
                std::ifstream in(word);
                if (!in) return fail(fmt::format("{}: open file {}: {}", name(), word, std::strerror(errno)));
                std::string line;
                while (std::getline(in, line)) {
                    auto hash = line.find('#');
                    if (hash != std::string::npos) line.resize(hash);
                    for (auto& n : split_words(line, ", \t\r\n")) list.items.push_back({item.negate, n, nullptr});
                }
                continue;
            }
            if (word.find(':') != std::string::npos && word[0] != '[') {
                auto t = open(word, O_RDONLY, kFoldFixed);
                if (!t) return fail(t.error().text);
                item.table = std::move(*t);
            } else {
                item.name = word;
            }
            list.items.push_back(std::move(item));
        }
        domain_ = std::move(list);
    }
    set_flags(flags() | ((tflags_ & (kKeyUser | kKeyDomain | kKeyPartial)) ? kPattern : kFixed));
    std::string hosts;
    PF_GET(hosts, cfg.get_str("hosts", "", 0, 0));
    auto words = split_words(hosts, ", \t\r\n");
    if (words.empty()) words.push_back("localhost");
    PF_GET(require_result_set_, cfg.get_bool("require_result_set", true));
    PF_GET(idle_interval_, cfg.get_int("idle_interval", 60, 1, 0));
    PF_GET(retry_interval_, cfg.get_int("retry_interval", 60, 1, 0));
#undef PF_GET
    for (auto& w : words) {
        Host h;
        h.spec = w;
        std::string_view d = w;
        if (d.starts_with("unix:")) {
            h.unix_socket = true;
            h.name = std::string(d.substr(5));
        } else {
            if (d.starts_with("inet:")) d.remove_prefix(5);
            std::string port;
            if (!d.empty() && d[0] == '[') {
                auto close = d.find(']');
                h.name = std::string(d.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
                if (close != std::string_view::npos && close + 1 < d.size() && d[close + 1] == ':')
                    port = std::string(d.substr(close + 2));
            } else if (auto colon = d.find(':'); colon != std::string_view::npos) {
                h.name = std::string(d.substr(0, colon));
                port = std::string(d.substr(colon + 1));
            } else {
                h.name = std::string(d);
            }
            if (!port.empty()) {
                if (std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                    h.port = static_cast<unsigned>(std::strtoul(port.c_str(), nullptr, 10));
                } else if (const servent* s = getservbyname(port.c_str(), "tcp")) {
                    h.port = ntohs(static_cast<uint16_t>(s->s_port));
                } else {
                    return fail(fmt::format("unknown service: {}/tcp", port));
                }
            }
        }
        hosts_.push_back(std::move(h));
    }
    return {};
}

// Picks a random host in one of two states (failed hosts only once their
// retry time has come) of the given kind.
Host* MysqlDict::pick(HostState want_a, HostState want_b, bool unix_socket) {
    std::vector<Host*> eligible;
    time_t now = std::time(nullptr);
    for (auto& h : hosts_) {
        if (h.unix_socket != unix_socket) continue;
        if (h.state != want_a && h.state != want_b) continue;
        if (h.state == HostState::failed && h.retry_at > now) continue;
        eligible.push_back(&h);
    }
    if (eligible.empty()) return nullptr;
    std::uniform_int_distribution<size_t> dist(0, eligible.size() - 1);
    return eligible[dist(rng_)];
}

void MysqlDict::connect(Host& h) {
    h.db.reset(mariadb::client().init(nullptr));
    if (!h.db) util::msg_fatal("dict_mysql: insufficient memory");
    MYSQL* m = h.db.get();
    if (option_file_) mariadb::client().options(m, MYSQL_READ_DEFAULT_FILE, option_file_->c_str());
    if (!option_group_.empty()) mariadb::client().options(m, MYSQL_READ_DEFAULT_GROUP, option_group_.c_str());
    if (tls_key_ || tls_cert_ || tls_ca_file_ || tls_ca_path_ || tls_ciphers_) {
        auto c = [](const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; };
        mariadb::client().ssl_set(m, c(tls_key_), c(tls_cert_), c(tls_ca_file_), c(tls_ca_path_), c(tls_ciphers_));
    }
    if (tls_verify_ != -1) {
        my_bool v = static_cast<my_bool>(tls_verify_);
        mariadb::client().options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &v);
    }
    if (mariadb::client().real_connect(m, h.unix_socket ? nullptr : h.name.c_str(), user_.c_str(),
                                       password_.c_str(), dbname_.c_str(), h.port,
                                       h.unix_socket ? h.name.c_str() : nullptr, CLIENT_MULTI_RESULTS)) {
        h.state = HostState::active;
        return;
    }
    int saved = errno;
    util::msg_warn("connect to mysql server {}: {}", h.spec, mariadb::client().error(m));
    errno = saved;
    down(h);
}

Host* MysqlDict::active_host() {
    // Connections idle for longer than idle_interval are closed (the
    // reference does this with a timer), so a restarted server is reconnected.
    time_t now = std::time(nullptr);
    for (auto& h : hosts_) {
        if (h.state == HostState::active && now - h.last_used > idle_interval_) {
            h.db.reset();
            h.state = HostState::untried;
        }
    }
    if (Host* h = pick(HostState::active, HostState::active, true)) return h;
    if (Host* h = pick(HostState::active, HostState::active, false)) return h;
    for (;;) {
        Host* h = pick(HostState::untried, HostState::failed, true);
        if (!h) h = pick(HostState::untried, HostState::failed, false);
        if (!h) return nullptr;
        connect(*h);
        if (h->state == HostState::active) return h;
    }
}

void append_quoted(std::string& out, const std::string& v, MYSQL* quote_with) {
    if (!quote_with) {
        out += v;
        return;
    }
    std::string buf(2 * v.size() + 1, '\0');
    unsigned long n =
        mariadb::client().real_escape_string(quote_with, buf.data(), v.data(), static_cast<unsigned long>(v.size()));
    if (n == static_cast<unsigned long>(-1)) n = 0;
    out.append(buf.data(), n);
}

bool MysqlDict::expand(const std::string& format, const std::string& value, const std::string* key,
                       std::string& out, MYSQL* quote_with) {
    if (value.empty()) {
        if (key)
            util::msg_warn("table \"{}\": empty lookup result for: \"{}\" -- ignored", type_name(), *key);
        else
            util::msg_warn("table \"{}\": empty query string -- ignored", type_name());
        return false;
    }
    if (key && key->empty()) {
        util::msg_warn("table \"{}\": empty lookup key for value: \"{}\"", type_name(), value);
        return false;
    }
    unsigned dflag = key ? kValueDomain : kKeyDomain;
    unsigned uflag = key ? kValueUser : kKeyUser;
    std::optional<std::string> vuser, vdomain, kuser, kdomain;
    if (tflags_ & dflag) {
        auto at = value.rfind('@');
        if (at == std::string::npos || at + 1 == value.size() || (at == 0 && (tflags_ & uflag))) return false;
        vuser = value.substr(0, at);
        vdomain = value.substr(at + 1);
    } else if (tflags_ & uflag) {
        auto at = value.rfind('@');
        vuser = at == std::string::npos ? value : value.substr(0, at);
        if (vuser->empty()) return false;
    }
    if (key) {
        if (tflags_ & (kKeyDomain | kKeyPartial)) {
            auto at = key->rfind('@');
            if (at == std::string::npos || at + 1 == key->size() || (at == 0 && (tflags_ & kKeyUser))) return false;
            kuser = key->substr(0, at);
            kdomain = key->substr(at + 1);
        } else if (tflags_ & kKeyUser) {
            auto at = key->rfind('@');
            kuser = at == std::string::npos ? *key : key->substr(0, at);
            if (kuser->empty()) return false;
        }
    }
    std::vector<std::string> parts;
    if (tflags_ & kKeyPartial) {
        const std::optional<std::string>& dom = key ? kdomain : vdomain;
        std::string d;
        if (dom) {
            d = *dom;
        } else {
            auto at = value.rfind('@');
            if (at == std::string::npos || at + 1 == value.size() || at == 0) return false;
            d = value.substr(at + 1);
        }
        parts = split_words(d, ".");
        if (static_cast<int>(parts.size()) < nparts_) return false;
    }
    if (key && !out.empty()) out += ',';
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            out += format[i];
            continue;
        }
        char c = format[++i];
        switch (c) {
        case '%':
            out += '%';
            break;
        case 's':
            append_quoted(out, value, quote_with);
            break;
        case 'u':
            append_quoted(out, vuser ? *vuser : value, quote_with);
            break;
        case 'd':
            append_quoted(out, vdomain.value_or(""), quote_with);
            break;
        case 'S':
            append_quoted(out, key ? *key : value, quote_with);
            break;
        case 'U':
            if (key)
                append_quoted(out, kuser ? *kuser : *key, quote_with);
            else
                append_quoted(out, vuser ? *vuser : value, quote_with);
            break;
        case 'D':
            append_quoted(out, (key ? kdomain : vdomain).value_or(""), quote_with);
            break;
        default:
            append_quoted(out, parts[parts.size() - static_cast<size_t>(c - '0')], quote_with);
            break;
        }
    }
    return true;
}

LookupResult MysqlDict::lookup(std::string_view key_in) {
    std::string key(key_in);
    if (!(flags() & kUtf8Active) && !util::valid_utf8(key)) return LookupResult::not_found();
    key = fold_key(key);
    if (domain_) {
        auto at = key.rfind('@');
        if (at == std::string::npos || at == 0) return LookupResult::not_found();
        if (!domain_->match(key.substr(at + 1))) return LookupResult::not_found();
    }
    std::string query;
    if (!expand(query_, key, nullptr, query, nullptr)) return LookupResult::not_found();

    ResultHandle res;
    bool have_result = false;
    while (Host* h = active_host()) {
        query.clear();
        expand(query_, key, nullptr, query, h->db.get());
        bool error = true;
        MYSQL* m = h->db.get();
        if (mariadb::client().real_query(m, query.data(), static_cast<unsigned long>(query.size())) == 0) {
            res.reset(mariadb::client().store_result(m));
            if (!res) {
                if (mariadb::client().field_count(m) != 0) {
                    util::msg_warn("{}:{}: result retrieval failed: {}", type(), name(), mariadb::client().error(m));
                } else if (require_result_set_) {
                    util::msg_warn("{}:{}: query failed: query returned no result set(require_result_set = yes)",
                                   type(), name());
                } else {
                    error = false;
                }
            } else {
                error = false;
            }
            // Skip over any further result sets (stored procedures).
            int st;
            while ((st = mariadb::client().next_result(m)) == 0) {
                ResultHandle extra(mariadb::client().store_result(m));
                if (extra) {
                    util::msg_warn("{}:{}: query failed: Stored procedure returned multiple result sets", type(),
                                   name());
                    error = true;
                }
            }
            if (st > 0) {
                util::msg_warn("{}:{}: query failed: {}", type(), name(), mariadb::client().error(m));
                error = true;
            }
        } else {
            int saved = errno;
            util::msg_warn("{}:{}: query failed: {}", type(), name(), mariadb::client().error(m));
            errno = saved;
        }
        if (!error) {
            h->last_used = std::time(nullptr);
            have_result = true;
            break;
        }
        res.reset();
        down(*h);
    }
    if (!have_result) return LookupResult::failed({Error::Kind::retry, std::strerror(errno)});
    if (!res) return LookupResult::not_found();

    std::string result;
    int expansion = 0;
    unsigned nfields = mariadb::client().num_fields(res.get());
    while (MYSQL_ROW row = mariadb::client().fetch_row(res.get())) {
        unsigned long* lengths = mariadb::client().fetch_lengths(res.get());
        for (unsigned j = 0; j < nfields; ++j) {
            if (!row[j]) continue;
            std::string v(row[j], lengths[j]);
            if (v.find('\0') != std::string::npos) v.resize(v.find('\0'));
            if (expand(result_format_, v, &key, result, nullptr) && expansion_limit_ > 0 &&
                ++expansion > expansion_limit_) {
                int saved = errno;
                util::msg_warn("dict_mysql_lookup: {}: Expansion limit exceeded for key: '{}'", name(), key);
                errno = saved;
                return LookupResult::failed({Error::Kind::retry, std::strerror(errno)});
            }
        }
    }
    if (result.empty()) return LookupResult::not_found();
    return LookupResult::found(std::move(result));
}

}  // namespace

void register_mysql_type() {
    register_type("mysql", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        mariadb::client();  // loaded before the configuration is read, as the reference
        auto d = std::make_unique<MysqlDict>(name, open_flags, flags);
        if (auto r = d->configure(); !r) return std::unexpected(r.error());
        return d;
    });
}

}  // namespace pf::dict
