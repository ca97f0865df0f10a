// The lookup-table interface shared by every table type (hash, btree, lmdb,
// cdb, texthash, inline, static, fail, environ, randmap, pcre, regexp, cidr,
// unionmap, pipemap, socketmap, tcp, mysql, proxy, ...), as the reference's
// programs see tables: "type:name", opened with the caller's flags, answering
// lookups with one of three outcomes (found, not found, error) that callers
// never confuse.
//
// Trust: keys come from the network and from files; every implementation
// treats them as arbitrary bytes.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pf::dict {

// Behaviour flags, as the reference's programs pass them to a table.
enum Flag : uint32_t {
    kDupWarn = 1u << 0,       // warn about duplicate keys (update)
    kDupIgnore = 1u << 1,     // keep the first of duplicate keys
    kDupReplace = 1u << 2,    // the last of duplicate keys wins
    kTryNul = 1u << 3,        // keys may be stored with a trailing NUL
    kTryNoNul = 1u << 4,      // keys may be stored without a trailing NUL
                              // (neither set: the table tries both on lookup, and
                              // stores in its type's default form on update:
                              // hash/btree/lmdb with NUL, cdb without)
    kFoldFixed = 1u << 5,     // fold keys to lower case (indexed tables)
    kFoldMulti = 1u << 6,     // fold keys to lower case (pattern tables)
    kLock = 1u << 7,          // lock the file for each access
    kSync = 1u << 8,          // sync updates to disk
    kPattern = 1u << 9,       // set by the table: a pattern table (pcre, regexp, cidr)
    kFixed = 1u << 10,        // set by the table: exact-match keys
    kUtf8Request = 1u << 11,  // check keys and values for valid UTF-8
    kBulkUpdate = 1u << 12,   // postmap/postalias building a whole table
    kParanoid = 1u << 13,     // refuse unsafe table names from untrusted sources
    kNoProxy = 1u << 14,
    kNoUnauth = 1u << 15,
    kMulWriter = 1u << 16,
    kNoRegSub = 1u << 17,     // no $1.. substitution in pattern results
    kSrcRhsIsFile = 1u << 18, // postmap -F: values name files
    kUtf8Active = 1u << 19,   // set by open(): kUtf8Request honoured (see dict_utf8.h);
                              // keys fold with Unicode case folding
};
using Flags = uint32_t;

// Why a lookup, update or open did not succeed. How programs report it, as
// the reference does (postmap: "table T:N: query error", ...):
//  - retry: text is the cause alone (an errno text such as "Connection
//    refused", "Application error"); shown as "<what> error: <text>";
//  - config: for a lookup, the details were warned already and the caller
//    says only "query error"; for update/remove/sequence and for open, text
//    is the whole message (e.g. "table static:x: sequence operation is not
//    supported").
struct Error {
    enum class Kind {
        retry,   // temporary: a server is down, a file is locked; becomes 4xx / deferral
        config,  // permanent: bad table configuration; never "not found"
    };
    Kind kind = Kind::retry;
    std::string text;
};

// The answer of a lookup: a value, nothing, or an error.
class LookupResult {
public:
    static LookupResult found(std::string value) { return LookupResult(std::move(value)); }
    static LookupResult not_found() { return LookupResult(); }
    static LookupResult failed(Error e) { return LookupResult(std::move(e)); }

    bool is_found() const { return value_.has_value(); }
    bool is_not_found() const { return !value_ && !error_; }
    bool is_error() const { return error_.has_value(); }
    const std::string& value() const { return *value_; }
    const Error& error() const { return *error_; }

private:
    LookupResult() = default;
    explicit LookupResult(std::string v) : value_(std::move(v)) {}
    explicit LookupResult(Error e) : error_(std::move(e)) {}
    std::optional<std::string> value_;
    std::optional<Error> error_;
};

// Result of update/remove: done, not found (remove), or an error.
// restart: a bulk build (kBulkUpdate) must start over: the table has dropped
// what it had (e.g. an LMDB file outgrew lmdb_map_size and was enlarged); the
// caller rewinds its source and calls update() again for every entry,
// repeating its own warnings as the reference does.
enum class ChangeStatus { done, not_found, failed, restart };

// One step of a sequential walk (postmap -s).
struct Entry {
    std::string key;
    std::string value;
};
enum class SequenceStart { first, next };

class Dict {
public:
    Dict(std::string type, std::string name, int open_flags, Flags flags)
        : type_(std::move(type)), name_(std::move(name)), open_flags_(open_flags), flags_(flags) {}
    // A table listed by dict_watch.h leaves the list here.
    virtual ~Dict();
    Dict(const Dict&) = delete;
    Dict& operator=(const Dict&) = delete;

    virtual LookupResult lookup(std::string_view key) = 0;
    // Tables that cannot change answer failed with last_error() set.
    virtual ChangeStatus update(std::string_view key, std::string_view value);
    virtual ChangeStatus remove(std::string_view key);
    // Walks the table; nullopt at the end, or on error (last_error() set).
    virtual std::optional<Entry> sequence(SequenceStart where);
    // Flushes pending updates (bulk builds rename the new file into place here).
    virtual std::expected<void, Error> close() { return {}; }
    // The open file whose fstat() tells whether the table was rebuilt since
    // it was opened (dict_watch.h); -1 for tables that are no such file.
    virtual int stat_fd() const { return -1; }

    const std::string& type() const { return type_; }
    const std::string& name() const { return name_; }
    std::string type_name() const { return type_ + ":" + name_; }
    int open_flags() const { return open_flags_; }
    Flags flags() const { return flags_; }
    void set_flags(Flags f) { flags_ = f; }
    const Error& last_error() const { return last_error_; }

protected:
    void set_error(Error e) { last_error_ = std::move(e); }
    // Folds a key to lower case when the table's flags ask for it.
    std::string fold_key(std::string_view key) const;
    // The same into out, reusing its storage (per-lookup hot paths); key
    // must not point into out.
    void fold_key_into(std::string_view key, std::string& out) const;

private:
    std::string type_;
    std::string name_;
    int open_flags_;
    Flags flags_;
    Error last_error_;
};

using DictPtr = std::unique_ptr<Dict>;

}  // namespace pf::dict
