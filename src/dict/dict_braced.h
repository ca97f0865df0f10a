// Table names written as a braced list ("inline:{a=1, b=2}",
// "randmap:{x, y}", "unionmap:{hash:/a, cidr:/b}", "pipemap:{...}"): the
// whole name must be one "{...}" group with nothing after it, or the table
// reports "bad syntax" (its own wording); the list inside splits on white
// space and commas, a "{...}" element keeping its separators.
//
// Trust: the name comes from main.cf or the command line; any text.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace pf::dict {

// The text inside the outer braces, or nullopt when name is not one group.
std::optional<std::string_view> braced_body(std::string_view name);
std::vector<std::string_view> braced_elements(std::string_view body);

}  // namespace pf::dict
