// Numeric host address checks with the reference's rules and warnings;
// see address_hostaddr.h.
#include "mail/address_hostaddr.h"

#include "util/msg.h"

#include <cstring>

namespace pf::mail {

namespace {

// The reference prints at most 100 bytes of the offending text.
std::string_view head(std::string_view s) { return s.substr(0, 100); }

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_alnum(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool ipv6_prefix(std::string_view s) {
    if (s.size() < 5) return false;
    static constexpr std::string_view kPrefix = "ipv6:";
    for (std::size_t i = 0; i < 5; ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != kPrefix[i]) return false;
    }
    return true;
}

}  // namespace

bool valid_ipv4_hostaddr(std::string_view addr, bool warn) {
    static constexpr std::string_view kWho = "valid_ipv4_hostaddr";
    bool in_part = false;
    int parts = 0;
    int value = 0;
    // The text ends at a NUL, as a C string would.
    if (auto nul = addr.find('\0'); nul != std::string_view::npos) addr = addr.substr(0, nul);
    for (std::size_t i = 0; i < addr.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(addr[i]);
        if (is_digit(c)) {
            if (!in_part) {
                in_part = true;
                value = 0;
                ++parts;
            }
            value = value * 10 + (c - '0');
            if (value > 255) {
                if (warn) util::msg_warn("{}: invalid octet value: {}", kWho, head(addr));
                return false;
            }
        } else if (c == '.') {
            if (!in_part || i + 1 == addr.size()) {
                if (warn) util::msg_warn("{}: misplaced dot: {}", kWho, head(addr));
                return false;
            }
            // 0.0.0.0 is allowed, 0.1.2.3 is not.
            if (parts == 1 && value == 0 && addr.find_first_not_of("0.") != std::string_view::npos) {
                if (warn) util::msg_warn("{}: bad initial octet value: {}", kWho, head(addr));
                return false;
            }
            in_part = false;
        } else {
            if (warn) util::msg_warn("{}: invalid character {}(decimal): {}", kWho, static_cast<int>(c), head(addr));
            return false;
        }
    }
    if (parts != 4) {
        if (warn) util::msg_warn("{}: invalid octet count: {}", kWho, head(addr));
        return false;
    }
    return true;
}

bool valid_ipv6_hostaddr(std::string_view addr, bool warn) {
    static constexpr std::string_view kWho = "valid_ipv6_hostaddr";
    if (auto nul = addr.find('\0'); nul != std::string_view::npos) addr = addr.substr(0, nul);
    int null_field = 0;
    int field = 0;
    std::size_t len = 0;
    std::size_t i = 0;
    auto at = [&](std::size_t k) -> unsigned char { return k < addr.size() ? static_cast<unsigned char>(addr[k]) : 0; };
    for (;;) {
        unsigned char c = at(i);
        if (c == 0) {
            if (field < 2) {
                if (warn) util::msg_warn("{}: too few `:' in IPv6 address: {}", kWho, head(addr));
                return false;
            }
            if (len == 0 && null_field != field - 1) {
                if (warn) util::msg_warn("{}: bad null last field in IPv6 address: {}", kWho, head(addr));
                return false;
            }
            return true;
        }
        if (c == '.') {
            if (field < 2 || field > 6) {
                if (warn) util::msg_warn("{}: malformed IPv4-in-IPv6 address: {}", kWho, head(addr));
                return false;
            }
            return valid_ipv4_hostaddr(addr.substr(i - len), warn);
        }
        if (c == ':') {
            if (field == 0 && len == 0 && is_alnum(at(i + 1))) {
                if (warn) util::msg_warn("{}: bad null first field in IPv6 address: {}", kWho, head(addr));
                return false;
            }
            if (++field > 7) {
                if (warn) util::msg_warn("{}: too many `:' in IPv6 address: {}", kWho, head(addr));
                return false;
            }
            ++i;
            len = 0;
            if (at(i) == ':') {
                if (null_field > 0) {
                    if (warn) util::msg_warn("{}: too many `::' in IPv6 address: {}", kWho, head(addr));
                    return false;
                }
                null_field = field;
            }
            continue;
        }
        len = 0;
        while (is_hex(at(i + len))) ++len;
        if (len > 4) {
            if (warn) util::msg_warn("{}: malformed IPv6 address: {}", kWho, head(addr));
            return false;
        }
        if (len == 0) {
            if (warn)
                util::msg_warn("{}: invalid character {}(decimal) in IPv6 address: {}", kWho, static_cast<int>(c),
                               head(addr));
            return false;
        }
        i += len;
    }
}

bool valid_hostaddr(std::string_view addr, bool warn) {
    if (addr.empty() || addr.front() == '\0') {
        if (warn) util::msg_warn("valid_hostaddr: empty address");
        return false;
    }
    if (addr.find(':') != std::string_view::npos) return valid_ipv6_hostaddr(addr, warn);
    return valid_ipv4_hostaddr(addr, warn);
}

std::optional<std::string_view> valid_mailhost_addr(std::string_view addr, bool warn) {
    if (ipv6_prefix(addr)) {
        std::string_view bare = addr.substr(5);
        if (valid_ipv6_hostaddr(bare, warn)) return bare;
        return std::nullopt;
    }
    if (valid_ipv4_hostaddr(addr, warn)) return addr;
    return std::nullopt;
}

bool valid_mailhost_literal(std::string_view addr, bool warn) {
    static constexpr std::string_view kWho = "valid_mailhost_literal";
    // INET6_ADDRSTRLEN, the reference's buffer for the bare address.
    constexpr std::size_t kMaxAddress = 46;
    if (addr.empty() || addr.front() != '[') {
        if (warn) util::msg_warn("{}: '[' expected at start: {}", kWho, head(addr));
        return false;
    }
    auto close = addr.find(']');
    if (close == std::string_view::npos) {
        if (warn) util::msg_warn("{}: ']' expected at end: {}", kWho, head(addr));
        return false;
    }
    if (close + 1 < addr.size()) {
        if (warn) util::msg_warn("{}: unexpected text after ']': {}", kWho, head(addr));
        return false;
    }
    if (close - 1 >= kMaxAddress) {
        if (warn) util::msg_warn("{}: too much text: {}", kWho, head(addr));
        return false;
    }
    return valid_mailhost_addr(addr.substr(1, close - 1), warn).has_value();
}

}  // namespace pf::mail
