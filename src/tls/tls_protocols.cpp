// TLS protocol list parsing (see tls_protocols.h).
//
// Trust: configuration text only.
#include "tls/tls_protocols.h"

#include <cstdlib>
#include <string>

namespace pf::tls {

namespace {

struct Name {
    const char* name;
    unsigned bit;
    int version;
};

const Name kProtocols[] = {
    {"SSLv2", kSslV2, 0x0002}, {"SSLv3", kSslV3, 0x0300},   {"TLSv1", kTlsV1, 0x0301},
    {"TLSv1.1", kTlsV1_1, 0x0302}, {"TLSv1.2", kTlsV1_2, 0x0303}, {"TLSv1.3", kTlsV1_3, 0x0304},
};

std::optional<unsigned> protocol_bit(std::string_view name) {
    for (const auto& p : kProtocols)
        if (name == p.name) return p.bit;
    return std::nullopt;
}

// A version for ">=" / "<=": a name (not SSLv2), "None", or hex digits.
std::optional<int> parse_version(std::string_view text) {
    if (text == "None") return 0;
    for (const auto& p : kProtocols)
        if (text == p.name && p.bit != kSslV2) return p.version;
    if (text.empty() || text.size() > 8) return std::nullopt;
    std::string copy(text);
    char* end = nullptr;
    unsigned long v = std::strtoul(copy.c_str(), &end, 16);
    if (*end != '\0' || v > 0x7fffffffUL) return std::nullopt;
    return static_cast<int>(v);
}

}  // namespace

std::optional<ProtocolLimits> parse_protocols(std::string_view list) {
    ProtocolLimits out;
    unsigned include = 0;
    std::size_t i = 0;
    const std::string_view seps = ", \t\r\n:";
    while (i < list.size()) {
        while (i < list.size() && seps.find(list[i]) != std::string_view::npos) ++i;
        if (i >= list.size()) break;
        std::size_t start = i;
        while (i < list.size() && seps.find(list[i]) == std::string_view::npos) ++i;
        std::string_view tok = list.substr(start, i - start);
        if (tok.starts_with(">=")) {
            auto v = parse_version(tok.substr(2));
            if (!v) return std::nullopt;
            out.floor = *v;
        } else if (tok.starts_with("<=")) {
            auto v = parse_version(tok.substr(2));
            if (!v) return std::nullopt;
            out.ceiling = *v;
        } else if (tok.starts_with('!')) {
            auto b = protocol_bit(tok.substr(1));
            if (!b) return std::nullopt;
            out.exclude |= *b;
        } else {
            auto b = protocol_bit(tok);
            if (!b) return std::nullopt;
            include |= *b;
        }
    }
    if (include) out.exclude |= kKnownProtocols & ~include;
    return out;
}

}  // namespace pf::tls
