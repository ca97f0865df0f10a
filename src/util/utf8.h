// UTF-8 checks shared by diagnostics and lookup tables, with the reference's
// rules: a string is valid UTF-8 when every sequence is well formed per
// RFC 3629 (no overlong forms, no surrogates, nothing above U+10FFFF); with
// UTF-8 support on, diagnostics keep UTF-8-shaped sequences and replace every
// other non-printable byte with '?' (the reference's printable()).
//
// Trust: any byte sequence; never reads past the input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pf::util {

// Length of the well-formed multi-byte sequence starting at s[0] (which has
// its high bit set), or 0 when it is malformed or truncated.
size_t utf8_sequence_length(std::string_view s);

bool all_ascii(std::string_view s);
bool valid_utf8(std::string_view s);

// Printable ASCII stays; with utf8 on, byte sequences shaped like UTF-8 (a
// lead byte 0xC2-0xFE and its continuation bytes) stay too, even where
// valid_utf8() would refuse them; every other byte becomes '?'.
std::string printable(std::string_view s, bool utf8);

}  // namespace pf::util
