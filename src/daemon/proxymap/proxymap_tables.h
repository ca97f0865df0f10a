// The tables one proxymap(8) process has open, as the reference keeps them:
// a table is opened on the first request that names it (so a chrooted
// proxymap opens it inside the jail) and stays open for every later client
// (no close request, nothing closed when a client goes away); one instance
// per table name and instance flags. A name that is not approved is refused
// (status deny) with the reference's two warnings; a name without "type:"
// is a bad request. A table that cannot be opened (missing file, unknown
// type, unreadable) is logged once as an error and replaced by a stand-in
// whose every operation warns "<type>:<name> is unavailable. <reason>" and
// fails with a temporary error, as the reference's surrogate tables.
//
// Change detection (the reference's dict_changed_name()): the read-only
// service lists each table it opens with the process-wide watch list
// (dict/dict_watch.h) under its name "type:name:<instance flags>";
// changed_name() names the first table whose file has a new modification
// time (not for lmdb, which is safe for several writers) or has been
// removed, so the service can exit and let master start a fresh process.
// Pattern and text tables (regexp, pcre, cidr, texthash, ...) are read
// once and not watched, as in the reference.
//
// Flags: a request carries the client's table flags. As the reference,
// the flags that select an instance (NUL handling, -F) are fixed at open;
// the per-request flags (case folding, locking, duplicates, sync, UTF-8)
// are applied to the open table before each operation. UTF-8 checks are
// the client's business; the server only folds keys the Unicode way when
// the client's table has UTF-8 active.
//
// Trust: table names and flags come from clients (our own processes, but
// any local process may connect to the socket): only approved names open.
#pragma once

#include "dict/dict.h"
#include "dict/dict_proxy.h"
#include "dict/dict_registry.h"
#include "proxymap_acl.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pf::proxymap {

// Flags applied to the open table on every request (the reference's
// DICT_FLAG_RQST_MASK, plus kUtf8Active: see above).
inline constexpr dict::Flags kRequestFlags = dict::kFoldFixed | dict::kFoldMulti | dict::kLock | dict::kDupReplace |
                                             dict::kDupWarn | dict::kDupIgnore | dict::kSync | dict::kNoRegSub |
                                             dict::kNoProxy | dict::kNoUnauth | dict::kParanoid |
                                             dict::kUtf8Request | dict::kUtf8Active;
// Flags a table sets itself (never taken from a client).
inline constexpr dict::Flags kImplFlags = dict::kFixed | dict::kPattern | dict::kMulWriter;
// The rest select an instance.
inline constexpr dict::Flags kInstanceFlags = ~(kRequestFlags | kImplFlags);

// The reference's names of flag bits ("try0null|utf8_request"), as its
// logs show them.
std::string flags_text(dict::Flags flags);

// What opens a table; tests replace it.
using TableOpener = std::function<dict::OpenResult(std::string_view type_name, int open_flags, dict::Flags flags)>;

class TableCache {
public:
    // writer: the proxywrite service (tables opened O_RDWR|O_CREAT).
    TableCache(ApprovedTables approved, bool writer, TableOpener opener = {});
    ~TableCache();
    TableCache(const TableCache&) = delete;
    TableCache& operator=(const TableCache&) = delete;

    struct Found {
        dict::Dict* table = nullptr;  // null: refused, see status
        dict::ProxyStatus status = dict::ProxyStatus::ok;
    };
    // The open table for a request, opening it on first use. flags are the
    // request's; at_open: the request is "open" (only the instance flags
    // reach the table's open then, as with the reference's client).
    Found find(std::string_view requested_name, dict::Flags flags, bool at_open);

    // The name ("type:name:flags") of the first table whose file changed
    // since it was opened; nullopt when none did.
    std::optional<std::string> changed_name() const;

    bool writer() const { return writer_; }
    std::size_t open_count() const { return tables_.size(); }

private:
    struct Entry;
    ApprovedTables approved_;
    bool writer_;
    TableOpener opener_;
    std::map<std::string, std::unique_ptr<Entry>> tables_;
};

}  // namespace pf::proxymap
