// The reference's TLS protocol lists (smtpd_tls_protocols,
// smtp_tls_mandatory_protocols, ...): both syntaxes, the old exclusion
// list ("!SSLv2, !SSLv3", or an inclusion list "TLSv1.2 TLSv1.3" meaning
// "everything else excluded") and the bounds form (">=TLSv1", "<=TLSv1.2",
// also a hex version number), separated by commas, blanks or colons.
// Names are matched case-sensitively, as by the reference.
//
// Trust: configuration text; a bad list is reported to the caller.
#pragma once

#include <optional>
#include <string_view>

namespace pf::tls {

// Protocol bits as the exclusion mask uses them.
enum ProtocolBit : unsigned {
    kSslV2 = 1u << 0,
    kSslV3 = 1u << 1,
    kTlsV1 = 1u << 2,
    kTlsV1_1 = 1u << 3,
    kTlsV1_2 = 1u << 4,
    kTlsV1_3 = 1u << 5,
    kKnownProtocols = kSslV2 | kSslV3 | kTlsV1 | kTlsV1_1 | kTlsV1_2 | kTlsV1_3,
};

struct ProtocolLimits {
    unsigned exclude = 0;  // ProtocolBit values that must not be used
    int floor = 0;         // minimum wire version (0x0301 ...), 0: none
    int ceiling = 0;       // maximum wire version, 0: none
};

// std::nullopt: the list is invalid (an unknown name).
std::optional<ProtocolLimits> parse_protocols(std::string_view list);

}  // namespace pf::tls
