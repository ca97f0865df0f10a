// postscreen_access_list, as the reference evaluates it for a client
// address: words in order, "permit", "reject", "dunno" (case-insensitive),
// "permit_mynetworks" (the address against mynetworks: addresses,
// net/len, [ipv6]/len, type:table lookups, /file/name lists, "!" to
// negate), and type:table lookups whose result is one such word (or a
// list of them); the first decision wins. Unknown words and table errors
// end the list with a warning, in the reference's words.
//
// Trust: the list and tables come from the admin; the address from the
// kernel (getpeername).
#include "daemon/postscreen/postscreen_state.h"

#include "dict/cidr_match.h"
#include "dict/dict_registry.h"
#include "dict/dict_watch.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>

namespace pf::postscreen {

namespace {

struct NetItem {
    bool negate = false;
    std::vector<dict::CidrPattern> nets;  // one for a pattern
    std::shared_ptr<dict::Dict> table;    // or a table
};

std::vector<std::string> g_acl;
std::map<std::string, std::shared_ptr<dict::Dict>> g_tables;
std::vector<NetItem> g_mynetworks;
bool g_configured = false;

std::shared_ptr<dict::Dict> open_table(const std::string& name) {
    auto it = g_tables.find(name);
    if (it != g_tables.end()) return it->second;
    auto t = dict::open_unwatched(name, O_RDONLY, dict::kLock | dict::kFoldFixed | dict::kUtf8Request);
    if (!t) util::msg_fatal("{}", t.error().text);
    std::shared_ptr<dict::Dict> shared(std::move(*t));
    dict::watch_table(name, *shared);  // an access list's table goes by its bare name
    g_tables[name] = shared;
    return shared;
}

// Words of a list, braces kept together.
std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    int depth = 0;
    for (char c : text) {
        if (c == '{') ++depth;
        if (c == '}' && depth > 0) --depth;
        if (depth == 0 && (c == ',' || util::is_space(c))) {
            if (!cur.empty()) out.push_back(std::move(cur));
            cur.clear();
            continue;
        }
        cur += c;
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

// "type:name" with a table type we know, as opposed to an IPv6 pattern.
bool is_table_name(std::string_view w) {
    static const std::set<std::string_view> kTypes = {
        "btree", "cdb", "cidr", "environ", "fail", "hash", "inline", "internal", "ldap", "lmdb",
        "memcache", "mysql", "nis", "pcre", "pgsql", "pipemap", "proxy", "randmap", "regexp", "sdbm",
        "socketmap", "sqlite", "static", "tcp", "texthash", "unionmap", "unix", "dbm"};
    auto colon = w.find(':');
    return colon != std::string_view::npos && kTypes.contains(w.substr(0, colon));
}

bool g_mynetworks_parsed = false;

void parse_mynetworks(std::string_view text, bool negate_outer, int depth) {
    for (std::string w : words(text)) {
        bool negate = negate_outer;
        while (!w.empty() && w.front() == '!') {
            negate = !negate;
            w.erase(0, 1);
        }
        if (w.empty()) continue;
        if (w.front() == '/' && depth < 10) {
            std::string content;
            if (!util::read_file(w, content)) util::msg_fatal("open file {}: {}", w, std::strerror(errno));
            std::string cleaned;
            for (auto line : util::split_tokens(content, "\n")) {
                auto hash = line.find('#');
                cleaned.append(line.substr(0, hash)).append(" ");
            }
            parse_mynetworks(cleaned, negate, depth + 1);
            continue;
        }
        NetItem item;
        item.negate = negate;
        if (is_table_name(w)) {
            item.table = open_table(w);
        } else if (auto p = dict::parse_cidr_pattern(w)) {
            item.nets.push_back(*p);
        } else {
            util::msg_warn("mynetworks: {}", p.error());
            continue;
        }
        g_mynetworks.push_back(std::move(item));
    }
}

// 1 match, 0 no match, -1 error.
int match_mynetworks(const std::string& addr) {
    auto a = dict::parse_cidr_address(addr);
    for (const NetItem& item : g_mynetworks) {
        bool hit = false;
        if (item.table) {
            auto r = item.table->lookup(addr);
            if (r.is_error()) return -1;
            hit = r.is_found();
        } else if (a) {
            hit = dict::cidr_matches(item.nets.front(), *a);
        }
        if (hit) return item.negate ? 0 : 1;
    }
    return 0;
}

AclResult eval(const std::string& addr, const std::vector<std::string>& acl, const std::string& origin, int depth) {
    for (const std::string& word : acl) {
        std::string w = util::to_lower(word);
        if (w == "reject") return AclResult::reject;
        if (w == "permit") return AclResult::permit;
        if (w == "dunno") return AclResult::dunno;
        if (w == "permit_mynetworks") {
            int m = match_mynetworks(addr);
            if (m > 0) return AclResult::permit;
            if (m < 0) {
                util::msg_warn("{}: {}: mynetworks lookup error -- ignoring the remainder of this access list", origin,
                               word);
                return AclResult::error;
            }
            continue;
        }
        if (word.find(':') != std::string::npos) {
            if (origin.find(':') != std::string::npos || depth > 0) {
                util::msg_warn("table {}: lookup result \"{}\" is not allowed -- ignoring remainder of access list",
                               origin, word);
                return AclResult::dunno;
            }
            auto table = open_table(word);
            auto r = table->lookup(addr);
            if (r.is_found()) {
                AclResult res = eval(addr, words(r.value()), word, depth + 1);
                if (res != AclResult::dunno) return res;
            } else if (r.is_error()) {
                util::msg_warn("{}: {}: table lookup error -- ignoring the remainder of this access list", origin,
                               word);
                return AclResult::error;
            }
            continue;
        }
        util::msg_warn("{}: unknown command: {} -- ignoring the remainder of this access list", origin, word);
        return AclResult::error;
    }
    return AclResult::dunno;
}

}  // namespace

void acl_init(const std::string& access_list, const std::string& mynetworks) {
    g_acl = words(access_list);
    g_configured = !g_acl.empty();
    for (const auto& w : g_acl) {
        if (util::to_lower(w) == "permit_mynetworks" && !g_mynetworks_parsed) {
            g_mynetworks_parsed = true;
            parse_mynetworks(mynetworks, false, 0);
        }
        else if (w.find(':') != std::string::npos) open_table(w);
    }
}

bool acl_configured() { return g_configured; }

AclResult acl_eval(const std::string& addr) { return eval(addr, g_acl, "postscreen_access_list", 0); }

}  // namespace pf::postscreen
