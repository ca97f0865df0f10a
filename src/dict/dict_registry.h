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
OpenResult open(std::string_view type_name, int open_flags, Flags flags);

}  // namespace pf::dict
