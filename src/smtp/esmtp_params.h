// ESMTP parameters of MAIL FROM and RCPT TO (RFC 5321 section 4.1.2):
// "KEYWORD" or "KEYWORD=VALUE" words after the address, and the value
// syntaxes of the extensions the reference supports: SIZE (RFC 1870),
// BODY (RFC 6152/3030), SMTPUTF8 (RFC 6531), RET, ENVID, NOTIFY, ORCPT
// (RFC 3461, values in xtext), AUTH (RFC 4954). The decisions (which reply
// a bad value gets) are the server's; this only parses.
//
// Trust: peer input; every parser returns nullopt on bad syntax.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::smtp {

struct EsmtpParam {
    std::string keyword;  // as sent
    std::string value;    // after '=' (empty when none)
    bool has_value = false;
    std::string text;     // the whole word as sent
};

// Splits a parameter word at its first '='.
EsmtpParam parse_esmtp_param(std::string_view word);

// DSN bits as the reference stores them in queue files (notify_flags,
// ret_flags attributes).
inline constexpr int kNotifyNever = 1;
inline constexpr int kNotifySuccess = 2;
inline constexpr int kNotifyFailure = 4;
inline constexpr int kNotifyDelay = 8;
inline constexpr int kRetFull = 1;
inline constexpr int kRetHdrs = 2;

// "NEVER" alone or a comma list of SUCCESS, FAILURE, DELAY (any case);
// nullopt for anything else (NEVER mixed with others, unknown words, empty).
std::optional<int> parse_dsn_notify(std::string_view value);
// FULL or HDRS (any case).
std::optional<int> parse_dsn_ret(std::string_view value);
// SIZE: decimal digits only; nullopt on other text or overflow.
std::optional<std::uint64_t> parse_size(std::string_view value);

}  // namespace pf::smtp
