// The table types this build knows, and opening a table by "type:name".
// Every type registers an opener in register_builtin_types(); postconf -m
// lists the registered names.
#pragma once

#include "dict/dict.h"

#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::dict {

using OpenResult = std::expected<DictPtr, Error>;
// name is the part after "type:"; open_flags are open(2) flags (O_RDONLY,
// or O_RDWR|O_CREAT|O_TRUNC for a bulk build); flags are dict::Flag bits.
using Opener = std::function<OpenResult(std::string_view name, int open_flags, Flags flags)>;

void register_type(std::string_view type, Opener opener);
bool is_registered(std::string_view type);
// Sorted, as postconf -m prints them.
std::vector<std::string> registered_types();

// Registers every table type built into this program (idempotent).
void register_builtin_types();

// Opens "type:name". Errors use the reference's wording, e.g.
// 'open dictionary: expecting "type:name" form instead of "x"' and
// 'unsupported dictionary type: x'.
// With UTF-8 support on (dict_utf8.h) and kUtf8Request in flags, the table
// is opened with kUtf8Active and wrapped with the UTF-8 checks.
// A table opened read-only (O_RDONLY without O_CREAT) is listed for change
// detection under watch_label(type_name, open_flags, flags) (dict_watch.h),
// as the reference's programs register the tables of their parameters.
OpenResult open(std::string_view type_name, int open_flags, Flags flags);
// The same without that listing: for the tables the reference opens without
// registering them (command and reply filters, a memcache backup), and for
// callers that list the table under a label of their own (proxymap, the
// parts of a unionmap, a server access list).
OpenResult open_unwatched(std::string_view type_name, int open_flags, Flags flags);

// Whether postmap/postalias can build a table of this type from a source
// file (the reference's list: hash, btree, lmdb, cdb, and fail, which fails
// every write). Other types draw "unsupported dictionary type: T does not
// support bulk-mode creation." A bulk build opens the table with
// O_RDWR|O_CREAT|O_TRUNC and kBulkUpdate, calls update() per entry (starting
// over when it answers ChangeStatus::restart) and commits with close().
bool supports_bulk_create(std::string_view type);

}  // namespace pf::dict
