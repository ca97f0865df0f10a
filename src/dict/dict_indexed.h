// Rules shared by the indexed file tables (hash, btree, lmdb, cdb), as the
// reference applies them, so that a file built by either implementation gives
// the other the same answers:
//  - keys are tried with a trailing NUL first, then without; the first form
//    that finds something is the only one tried from then on (kTryNul /
//    kTryNoNul are narrowed on the table's flags);
//  - an update stores one form: with NUL when only kTryNul is set, without
//    when only kTryNoNul is set, the type's default when both are;
//  - values and keys read back are C strings: cut at their first NUL;
//  - a database older than its source file draws "database X is older than
//    source file Y" when opened without O_CREAT;
//  - duplicate keys during an update: kDupIgnore keeps the first silently,
//    kDupWarn warns and keeps the first, kDupReplace overwrites, none is an
//    error;
//  - settings from main.cf (berkeley_db_*_buffer_size, lmdb_map_size).
//
// Trust: database files are outside input (they may be truncated, corrupt or
// written by other programs); every length read from them is checked.
#pragma once

#include "dict/dict.h"

#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pf::config {
class Config;
}

namespace pf::dict {

// main.cf settings of the indexed tables. Programs that open tables call
// load_indexed_table_params() after reading main.cf; until then the
// reference's defaults apply.
struct IndexedTableParams {
    long berkeley_db_create_buffer_size = 16777216;
    long berkeley_db_read_buffer_size = 131072;
    long lmdb_map_size = 16777216;
};
const IndexedTableParams& indexed_table_params();
void set_indexed_table_params(const IndexedTableParams& params);
// Reads the three parameters; a bad value is fatal with the reference's
// words ("bad numerical configuration: NAME = VALUE", "invalid NAME
// parameter value V < 1").
void load_indexed_table_params(const config::Config& config);

// One probe of the underlying store: the stored value (raw bytes), nothing,
// or an error.
using Probe = std::expected<std::optional<std::string>, Error>;

// Sets both NUL flags when the caller set neither (lookups try both forms).
Flags default_nul_flags(Flags flags);

// The key as a C string: the reference's keys end at their first NUL.
std::string_view c_string(std::string_view s);

// Looks key up in both NUL forms as the flags allow (kTryNul first), narrowing
// the flags of dict to the form that found something. fetch gets the exact
// bytes to look for.
LookupResult lookup_nul_forms(Flags& flags, std::string_view key, const std::function<Probe(std::string_view)>& fetch);

// Which form an update stores: true for "with NUL". Narrows flags to that
// form, as the reference does after its first update. with_nul_default is the
// type's own choice when both flags are set.
bool update_with_nul(Flags& flags, bool with_nul_default);

// The key (already folded) and value of an update in the form they are stored:
// cut at any NUL, then with a trailing NUL when update_with_nul() says so.
struct StoredPair {
    std::string key;
    std::string value;
};
StoredPair stored_pair(std::string folded_key, std::string_view value, Flags& flags, bool with_nul_default);

// What a duplicate key means under these flags.
enum class DupAction { replace, ignore, warn, fail };
DupAction dup_action(Flags flags);

// Warns "database DB is older than source file SRC" when SRC (the table name
// without suffix) is newer than DB; silent when either cannot be examined.
void warn_if_older_than_source(const std::string& db_path, const std::string& source_path);

// The key shown in warnings and errors: the C-string form, folded as stored.
std::string shown_key(std::string_view key);

// An update found stored_key already there: under kDupWarn the warning
// "TABLE: duplicate entry: "KEY"" (table: the file or type named in
// diagnostics), under no kDup* flag the error to fail the update with;
// nullopt means the update is done (first kept, or replaced).
std::optional<Error> duplicate_entry(DupAction dup, std::string_view table, std::string_view stored_key);

// Removes the folded key in both NUL forms as the flags allow (kTryNul
// first), narrowing the flags to the form that was stored. erase gets the
// exact bytes: true when it deleted them, false when they were not there.
// Returns whether a form was deleted, or erase's error.
using Erase = std::function<std::expected<bool, Error>(std::string_view)>;
std::expected<bool, Error> remove_nul_forms(Flags& flags, std::string_view folded_key, const Erase& erase);

// A stored pair read back (sequence): key and value as C strings.
Entry stored_entry(std::string_view key, std::string_view value);

}  // namespace pf::dict
