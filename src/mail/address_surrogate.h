// Opening the tables of an address or domain list the way the reference's
// daemons do: a table that cannot be opened (missing file, unknown type,
// unreachable server at start-up) does not stop the program. The problem is
// logged once as an error, and the table is replaced by a stand-in whose
// every lookup warns "<type>:<name> is unavailable. <reason>" and fails
// with a temporary error, so mail for it is deferred instead of lost.
// The stand-in is a pattern table (no partial-address lookups).
//
// Trust: the table names come from main.cf.
#pragma once

#include "dict/dict.h"

#include <expected>
#include <string>
#include <string_view>

namespace pf::mail {

// dict::open(), or the stand-in when it fails; an error (dict::open's
// text) only for a name without "type:", a configuration error the caller
// reports.
std::expected<dict::DictPtr, std::string> open_table_or_surrogate(std::string_view type_name, int open_flags,
                                                                  dict::Flags flags);

}  // namespace pf::mail
