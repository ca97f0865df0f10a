// Hexadecimal bytes as the reference writes and reads them (its hex_code
// module): two upper-case digits a byte on output, either case accepted on
// input. Used by the TLS session cache entries, the %XX quoting of
// tcp_table and (through append_hex_byte) by any other byte-escaping
// format.
//
// Trust: hex_decode and hex_digit_value take hostile text; every character
// is checked.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pf::util {

// The value of one hex digit (0-15), or -1 for any other character.
int hex_digit_value(char c);

// Appends the two upper-case hex digits of byte c.
void append_hex_byte(std::string& out, unsigned char c);

// Every byte as two upper-case hex digits.
std::string hex_encode(std::string_view bytes);

// The inverse; nullopt on an odd length or a character that is no hex
// digit.
std::optional<std::string> hex_decode(std::string_view hex);

}  // namespace pf::util
