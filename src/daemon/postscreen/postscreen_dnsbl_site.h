// One entry of postscreen_dnsbl_sites, "domain[=filter][*weight]", and
// the reply filter ("127.0.0.2", "127.0.0.[2..11;13]", one octet pattern
// per dotted part) that decides which A records of a listing count, as
// the reference's postscreen parses and applies them (weight 1 when
// absent; a negative weight makes the domain an allowlist).
//
// Trust: the entries come from main.cf; the reply addresses that a filter
// is matched against come from DNS through dnsblog and are parsed strictly
// (anything that is not a dotted IPv4 address matches nothing).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace pf::postscreen {

// A parsed reply filter: four octet patterns, each a list of inclusive
// ranges (a plain number is a range of one).
struct IpFilter {
    std::vector<std::pair<uint8_t, uint8_t>> octets[4];
    bool matches(std::string_view dotted_ipv4) const;
};

// Parses a filter ("[...]" around the whole pattern is allowed); the error
// text follows "bad DNSBL filter syntax: ".
std::expected<IpFilter, std::string> parse_ip_filter(std::string_view pattern);

struct DnsblSite {
    std::string domain;
    std::string filter_text;      // empty: every reply counts
    std::vector<IpFilter> filter; // zero or one element
    int weight = 1;
};

// Parses one entry; the error is the whole fatal message, in the
// reference's words ("bad DNSBL weight factor ...", "bad DNSBL domain
// name ...", "bad DNSBL filter syntax: ...").
std::expected<DnsblSite, std::string> parse_dnsbl_site(std::string_view entry);

// Splits the parameter value into entries (commas and blanks separate).
std::vector<std::string> split_dnsbl_sites(std::string_view value);

}  // namespace pf::postscreen
