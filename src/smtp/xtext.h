// xtext (RFC 3461 section 4): the encoding of DSN ENVID and ORCPT values
// and of AUTH= in MAIL FROM, "+HH" for bytes outside printable ASCII and
// for '+' and '='. Decoding is strict as the reference's xtext_unquote:
// a '+' must be followed by two hex digits; a byte that should have been
// encoded is refused.
//
// Trust: input comes from the SMTP peer; invalid text is a nullopt.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pf::smtp {

// Decodes xtext; nullopt on a malformed "+HH" or a byte outside '!'..'~'.
std::optional<std::string> xtext_decode(std::string_view text);
// Decodes "+HH" and keeps every other byte as it is; nullopt on a '+'
// without two hex digits after it (how smtpd reads XCLIENT and XFORWARD
// values, which it then takes undecoded).
std::optional<std::string> xtext_decode_lenient(std::string_view text);
// Encodes bytes as xtext (hex digits upper case).
std::string xtext_encode(std::string_view bytes);

}  // namespace pf::smtp
