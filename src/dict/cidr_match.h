// Network patterns of cidr tables (cidr_table(5)): "address", "net/len",
// optionally inside "[...]", IPv4 or IPv6 (a pattern with ':' is IPv6), and
// matching an address against them. The checks, their order and their
// texts are the reference's:
//   missing ']' character after "[<rest>"     garbage after "[<inside>]"
//   bad mask value in "<pattern>"             bad mask length in "<pattern>"
//   bad network value in "<pattern>"          bad address pattern: "<pattern>"
//   non-null host address bits in "<p>", perhaps you should use "<net>/<len>" instead
// A mask length is the C library's atoi() of its digits kept in one byte
// (so "/264" is "/8"), as the reference stores it. Brackets are removed
// from the pattern quoted in later messages.
//
// Trust: patterns come from a table file, addresses from the network; both
// are parsed by inet_pton() only.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace pf::dict {

struct CidrAddress {
    int family = 0;  // AF_INET or AF_INET6
    std::array<uint8_t, 16> bytes{};
};

struct CidrPattern {
    int family = 0;
    std::array<uint8_t, 16> net{};
    unsigned mask_len = 0;  // in bits
};

// Parses a pattern; the error text is the reference's, without the
// table's "<kind> map <file>, line <n>: " prefix and ": skipping this rule".
std::expected<CidrPattern, std::string> parse_cidr_pattern(std::string_view pattern);

// Parses a lookup key with inet_pton(): IPv6 when it holds ':'.
std::optional<CidrAddress> parse_cidr_address(std::string_view text);

// Same family, and the first mask_len bits equal.
bool cidr_matches(const CidrPattern& pattern, const CidrAddress& address);

}  // namespace pf::dict
