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

}  // namespace pf::tls
