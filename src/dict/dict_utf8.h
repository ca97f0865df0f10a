// UTF-8 support of lookup tables, as the reference switches it on when
// smtputf8_enable = yes and the caller asks (flag kUtf8Request, which
// postmap's -u clears): open() then marks the table kUtf8Active, so keys fold
// with full Unicode case folding (ICU, "Straße" -> "strasse") instead of
// ASCII lower case, and wraps it so that
//  - a lookup, update or delete with a key that is not valid UTF-8 warns
//    "<type>:<name>: non-UTF-8 key "<key>": malformed UTF-8 or invalid
//    codepoint" and finds nothing (update and delete fail);
//  - a value that is not valid UTF-8 warns "<type>:<name>: key "<key>":
//    non-UTF-8 value "<value>": malformed UTF-8 or invalid codepoint" and the
//    lookup fails with a configuration error.
//
// Trust: keys and values are arbitrary bytes.
#pragma once

#include "dict/dict.h"

#include <string>
#include <string_view>

namespace pf::dict {

// The program-wide switch (the reference's util_utf8_enable): programs set
// it from smtputf8_enable after reading main.cf. Off by default.
void set_utf8_support(bool on);
bool utf8_support();

// Full case folding of UTF-8 text (ASCII lower case for ASCII text).
std::string casefold_utf8(std::string_view text);

// Wraps an opened table with the key and value checks above.
DictPtr wrap_utf8(DictPtr dict);

}  // namespace pf::dict
