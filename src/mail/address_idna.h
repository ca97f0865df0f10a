// A non-ASCII (UTF-8) domain name to its ASCII form, as the reference does
// it when SMTPUTF8 support is on: UTS #46 ToASCII through ICU
// (non-transitional processing unless enable_idna2003_compatibility = yes),
// a result that must also pass the hostname syntax check. Failures are
// logged once per name ("Problem translating domain ... to ASCII form: ...",
// with ICU's error names) because results, failures included, are cached
// (256 names, least recently used goes first), as the reference caches them.
//
// Trust: arbitrary bytes; malformed UTF-8 never reaches ICU.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pf::mail {

// The ASCII form of name, or nullopt (warned) when it cannot be converted.
std::optional<std::string> idna_domain_to_ascii(std::string_view name);

// enable_idna2003_compatibility: transitional processing (read once, before
// the first conversion).
void idna_set_transitional(bool on);

// The reference's valid_utf8_hostname(): with utf8 on, a non-ASCII name is
// valid when it converts to ASCII; otherwise the ASCII hostname rules apply.
bool valid_utf8_hostname(bool utf8, std::string_view name, bool warn);

}  // namespace pf::mail
