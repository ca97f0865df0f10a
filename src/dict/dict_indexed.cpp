// Rules shared by the indexed file tables; see dict_indexed.h.
#include "dict/dict_indexed.h"

#include "config/config.h"
#include "util/msg.h"
#include <fmt/core.h>

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace pf::dict {
namespace {

IndexedTableParams& params_store() {
    static IndexedTableParams params;
    return params;
}

// A positive long as the reference's main.cf reader accepts it: decimal
// digits with an optional sign, nothing else, within range.
long numeric_param(const config::Config& config, const char* name, long fallback) {
    std::optional<std::string> raw = config.raw_value(name);
    if (!raw) return fallback;
    std::string value = config.get(name);
    errno = 0;
    char* end = nullptr;
    long v = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno == ERANGE || end == value.c_str())
        util::msg_fatal("bad numerical configuration: {} = {}", name, value);
    if (v < 1) util::msg_fatal("invalid {} parameter value {} < 1", name, v);
    return v;
}

}  // namespace

const IndexedTableParams& indexed_table_params() { return params_store(); }

void set_indexed_table_params(const IndexedTableParams& params) { params_store() = params; }

void load_indexed_table_params(const config::Config& config) {
    IndexedTableParams p;
    p.berkeley_db_create_buffer_size =
        numeric_param(config, "berkeley_db_create_buffer_size", p.berkeley_db_create_buffer_size);
    p.berkeley_db_read_buffer_size = numeric_param(config, "berkeley_db_read_buffer_size", p.berkeley_db_read_buffer_size);
    p.lmdb_map_size = numeric_param(config, "lmdb_map_size", p.lmdb_map_size);
    params_store() = p;
}

Flags default_nul_flags(Flags flags) {
    if ((flags & (kTryNul | kTryNoNul)) == 0) flags |= kTryNul | kTryNoNul;
    return flags;
}

std::string_view c_string(std::string_view s) {
    auto nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
}

LookupResult lookup_nul_forms(Flags& flags, std::string_view key, const std::function<Probe(std::string_view)>& fetch) {
    if (flags & kTryNul) {
        std::string with_nul(key);
        with_nul.push_back('\0');
        Probe p = fetch(with_nul);
        if (!p) return LookupResult::failed(p.error());
        if (*p) {
            flags &= ~kTryNoNul;
            return LookupResult::found(std::string(c_string(**p)));
        }
    }
    if (flags & kTryNoNul) {
        Probe p = fetch(key);
        if (!p) return LookupResult::failed(p.error());
        if (*p) {
            flags &= ~kTryNul;
            return LookupResult::found(std::string(c_string(**p)));
        }
    }
    return LookupResult::not_found();
}

bool update_with_nul(Flags& flags, bool with_nul_default) {
    bool nul = flags & kTryNul;
    bool no_nul = flags & kTryNoNul;
    if (nul && no_nul) {
        nul = with_nul_default;
    } else if (!nul && !no_nul) {
        nul = with_nul_default;
    }
    flags = (flags & ~(kTryNul | kTryNoNul)) | (nul ? kTryNul : kTryNoNul);
    return nul;
}

StoredPair stored_pair(std::string folded_key, std::string_view value, Flags& flags, bool with_nul_default) {
    StoredPair p{std::move(folded_key), std::string(c_string(value))};
    if (update_with_nul(flags, with_nul_default)) {
        p.key.push_back('\0');
        p.value.push_back('\0');
    }
    return p;
}

DupAction dup_action(Flags flags) {
    if (flags & kDupReplace) return DupAction::replace;
    if (flags & kDupIgnore) return DupAction::ignore;
    if (flags & kDupWarn) return DupAction::warn;
    return DupAction::fail;
}

void warn_if_older_than_source(const std::string& db_path, const std::string& source_path) {
    struct stat db_st {};
    struct stat src_st {};
    // A source that is a symbolic link is not compared, as in the reference.
    if (::stat(db_path.c_str(), &db_st) != 0 || ::lstat(source_path.c_str(), &src_st) != 0) return;
    if (!S_ISREG(src_st.st_mode)) return;
    if (src_st.st_mtime > db_st.st_mtime)
        util::msg_warn("database {} is older than source file {}", db_path, source_path);
}

std::string shown_key(std::string_view key) { return std::string(c_string(key)); }

std::optional<Error> duplicate_entry(DupAction dup, std::string_view table, std::string_view stored_key) {
    std::string shown = shown_key(stored_key);
    if (dup == DupAction::warn) util::msg_warn("{}: duplicate entry: \"{}\"", table, shown);
    if (dup == DupAction::fail) return Error{Error::Kind::config, fmt::format("{}: duplicate entry: \"{}\"", table, shown)};
    return std::nullopt;
}

std::expected<bool, Error> remove_nul_forms(Flags& flags, std::string_view folded_key, const Erase& erase) {
    for (bool with_nul : {true, false}) {
        if (!(flags & (with_nul ? kTryNul : kTryNoNul))) continue;
        std::string k(folded_key);
        if (with_nul) k.push_back('\0');
        auto erased = erase(k);
        if (!erased) return erased;
        if (*erased) {
            flags &= with_nul ? ~kTryNoNul : ~kTryNul;
            return true;
        }
    }
    return false;
}

Entry stored_entry(std::string_view key, std::string_view value) {
    return Entry{std::string(c_string(key)), std::string(c_string(value))};
}

}  // namespace pf::dict
