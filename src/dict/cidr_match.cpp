// Network patterns of cidr tables; see cidr_match.h.
#include "dict/cidr_match.h"

#include <arpa/inet.h>
#include <climits>
#include <fmt/core.h>
#include <sys/socket.h>

namespace pf::dict {
namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// glibc atoi(): strtol() saturating at LONG_MAX, truncated to int.
int c_atoi(std::string_view digits) {
    unsigned long long v = 0;
    for (char c : digits) {
        v = v * 10 + static_cast<unsigned>(c - '0');
        if (v > static_cast<unsigned long long>(LONG_MAX)) {
            v = LONG_MAX;
            break;
        }
    }
    return static_cast<int>(static_cast<unsigned int>(v));
}

bool pton(int family, const std::string& text, std::array<uint8_t, 16>& out) {
    out.fill(0);
    return inet_pton(family, text.c_str(), out.data()) == 1;
}

void apply_mask(std::array<uint8_t, 16>& bytes, unsigned bits, unsigned total_bits) {
    for (unsigned b = bits; b < total_bits; ++b) bytes[b / 8] &= static_cast<uint8_t>(~(0x80u >> (b % 8)));
}

}  // namespace

std::expected<CidrPattern, std::string> parse_cidr_pattern(std::string_view pattern) {
    std::string text;
    if (!pattern.empty() && pattern.front() == '[') {
        auto close = pattern.find(']');
        if (close == std::string_view::npos)
            return std::unexpected(fmt::format("missing ']' character after \"{}\"", pattern));
        std::string_view inside = pattern.substr(1, close - 1);
        std::string_view after = pattern.substr(close + 1);
        if (!after.empty() && after.front() != '/')
            return std::unexpected(fmt::format("garbage after \"[{}]\"", inside));
        text = std::string(inside) + std::string(after);
    } else {
        text = std::string(pattern);
    }
    CidrPattern out;
    out.family = text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    const unsigned total = out.family == AF_INET6 ? 128 : 32;
    auto slash = text.find('/');
    if (slash == std::string::npos) {
        if (!pton(out.family, text, out.net)) return std::unexpected(fmt::format("bad address pattern: \"{}\"", text));
        out.mask_len = total;
        return out;
    }
    std::string net = text.substr(0, slash);
    std::string_view mask = std::string_view(text).substr(slash + 1);
    if (!all_digits(mask)) return std::unexpected(fmt::format("bad mask value in \"{}\"", text));
    out.mask_len = static_cast<uint8_t>(c_atoi(mask));
    if (out.mask_len > total) return std::unexpected(fmt::format("bad mask length in \"{}\"", text));
    if (!pton(out.family, net, out.net)) return std::unexpected(fmt::format("bad network value in \"{}\"", text));
    auto masked = out.net;
    apply_mask(masked, out.mask_len, total);
    if (masked != out.net) {
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(out.family, masked.data(), buf, sizeof buf);
        return std::unexpected(fmt::format("non-null host address bits in \"{}\", perhaps you should use \"{}/{}\" instead",
                                           text, buf, out.mask_len));
    }
    return out;
}

std::optional<CidrAddress> parse_cidr_address(std::string_view text) {
    CidrAddress a;
    a.family = text.find(':') != std::string_view::npos ? AF_INET6 : AF_INET;
    if (!pton(a.family, std::string(text), a.bytes)) return std::nullopt;
    return a;
}

bool cidr_matches(const CidrPattern& pattern, const CidrAddress& address) {
    if (pattern.family != address.family) return false;
    unsigned full = pattern.mask_len / 8;
    for (unsigned i = 0; i < full; ++i)
        if (pattern.net[i] != address.bytes[i]) return false;
    unsigned rest = pattern.mask_len % 8;
    if (rest == 0) return true;
    uint8_t m = static_cast<uint8_t>(0xff00u >> rest);
    return (address.bytes[full] & m) == pattern.net[full];
}

}  // namespace pf::dict
