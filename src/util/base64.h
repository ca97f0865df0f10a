// Base64 (RFC 4648 alphabet, '=' padding) as the reference encodes and
// decodes table values that name files (postmap -F): decoding needs a length
// that is a multiple of 4, and stops at the first group that ends in '='
// (whatever follows it is ignored, as the reference does).
//
// Trust: any text; a malformed value gives nullopt.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pf::util {

std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace pf::util
