// cidr: tables (dict_cidr.cpp): building one from text already in memory,
// for unit tests and fuzzing; programs open them through the registry.
#pragma once

#include "dict/dict.h"

#include <string_view>

namespace pf::dict {

DictPtr cidr_table_from_text(std::string_view name, std::string_view content, Flags flags);

}  // namespace pf::dict
