// The TLS security level names of smtpd_tls_security_level,
// smtp_tls_security_level and the smtp_tls_policy_maps entries, in the
// reference's order of strength.
//
// Trust: configuration text.
#pragma once

#include <optional>
#include <string_view>

namespace pf::tls {

enum class Level { kNone, kMay, kEncrypt, kFingerprint, kVerify, kSecure, kDane, kDaneOnly };

// Case-insensitive; std::nullopt for an unknown name.
std::optional<Level> level_lookup(std::string_view name);
const char* level_name(Level level);

// What a server's TLS level (smtpd_, postscreen_ or tlsproxy_tls_security_level,
// named by parameter) asks for, as the reference reads it: legacy (the
// <prefix>_use_tls and _enforce_tls switches) when level is empty; else none,
// may (use) or encrypt (use and enforce). An unknown or DANE level is fatal;
// fingerprint, verify and secure warn and act as encrypt.
struct ServerTls {
    bool use = false;
    bool enforce = false;
};
ServerTls server_tls_from_level(std::string_view parameter, std::string_view level, ServerTls legacy);

}  // namespace pf::tls
