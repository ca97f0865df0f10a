// postscreen_dnsbl_sites entries and reply filters (see the header).
#include "daemon/postscreen/postscreen_dnsbl_site.h"

#include "config/mail_params.h"
#include "util/strings.h"

#include <cctype>
#include <climits>
#include <optional>

#include <fmt/core.h>

namespace pf::postscreen {

namespace {

// A decimal octet value 0..255 at text[pos]; advances pos. -1 when none.
int read_octet(std::string_view text, std::size_t& pos) {
    std::size_t start = pos;
    int value = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        value = value * 10 + (text[pos] - '0');
        ++pos;
        if (value > 255) return -1;
    }
    return pos == start ? -1 : value;
}

// "n", or "[a;b..c;...]" into ranges; the error names what was expected.
std::expected<void, std::string> read_octet_pattern(std::string_view text, std::size_t& pos,
                                                    std::vector<std::pair<uint8_t, uint8_t>>& out) {
    if (pos < text.size() && text[pos] == '[') {
        ++pos;
        for (;;) {
            int low = read_octet(text, pos);
            if (low < 0) return std::unexpected(std::string("need decimal number 0..255"));
            int high = low;
            if (text.substr(pos, 2) == "..") {
                pos += 2;
                high = read_octet(text, pos);
                if (high < 0 || high < low) return std::unexpected(std::string("numeric range error"));
            } else if (pos < text.size() && text[pos] == '.') {
                return std::unexpected(std::string("numeric range error"));
            }
            out.emplace_back(static_cast<uint8_t>(low), static_cast<uint8_t>(high));
            if (pos < text.size() && text[pos] == ';') {
                ++pos;
                continue;
            }
            if (pos < text.size() && text[pos] == ']') {
                ++pos;
                return {};
            }
            return std::unexpected(std::string("need \";\" or \"]\""));
        }
    }
    int value = read_octet(text, pos);
    if (value < 0) return std::unexpected(std::string("need decimal number 0..255 or \"[\""));
    out.emplace_back(static_cast<uint8_t>(value), static_cast<uint8_t>(value));
    return {};
}

// sscanf("%d%c") == 1: optional blanks, an optional sign, digits, nothing after.
std::optional<int> parse_weight(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    bool negative = false;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) negative = text[pos++] == '-';
    std::size_t digits = pos;
    long long value = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        value = value * 10 + (text[pos] - '0');
        if (value > INT_MAX) return std::nullopt;
        ++pos;
    }
    if (pos == digits || pos != text.size()) return std::nullopt;
    return static_cast<int>(negative ? -value : value);
}

}  // namespace

bool IpFilter::matches(std::string_view addr) const {
    std::size_t pos = 0;
    for (int i = 0; i < 4; ++i) {
        if (i > 0) {
            if (pos >= addr.size() || addr[pos] != '.') return false;
            ++pos;
        }
        int value = read_octet(addr, pos);
        if (value < 0) return false;
        bool hit = false;
        for (auto [low, high] : octets[i])
            if (value >= low && value <= high) hit = true;
        if (!hit) return false;
    }
    return pos == addr.size();
}

std::expected<IpFilter, std::string> parse_ip_filter(std::string_view pattern) {
    // A pattern wholly inside one pair of brackets loses them.
    if (!pattern.empty() && pattern.front() == '[') {
        int level = 0;
        std::size_t end = std::string_view::npos;
        for (std::size_t i = 0; i < pattern.size(); ++i) {
            if (pattern[i] == '[') ++level;
            if (pattern[i] != ']') continue;
            if (--level == 0) {
                end = i;
                break;
            }
        }
        if (end == std::string_view::npos) return std::unexpected(std::string("missing \"]\" character"));
        if (end + 1 == pattern.size()) pattern = pattern.substr(1, end - 1);
    }
    if (pattern.empty()) return std::unexpected(std::string("empty address pattern"));
    IpFilter filter;
    std::size_t pos = 0;
    for (int i = 0; i < 4; ++i) {
        if (i > 0) {
            if (pos >= pattern.size() || pattern[pos] != '.')
                return std::unexpected(fmt::format("{}: need \".\"", pattern));
            ++pos;
        }
        if (auto ok = read_octet_pattern(pattern, pos, filter.octets[i]); !ok)
            return std::unexpected(fmt::format("{}: {}", pattern, ok.error()));
    }
    if (pos != pattern.size()) return std::unexpected(fmt::format("{}: garbage after pattern", pattern));
    return filter;
}

std::expected<DnsblSite, std::string> parse_dnsbl_site(std::string_view entry) {
    DnsblSite site;
    std::string_view rest = entry;
    if (auto star = rest.find('*'); star != std::string_view::npos) {
        auto weight = parse_weight(rest.substr(star + 1));
        if (!weight)
            return std::unexpected(fmt::format("bad DNSBL weight factor \"{}\" in \"{}\"", rest.substr(star + 1), entry));
        site.weight = *weight;
        rest = rest.substr(0, star);
    }
    if (auto eq = rest.find('='); eq != std::string_view::npos) {
        site.filter_text = std::string(rest.substr(eq + 1));
        auto filter = parse_ip_filter(site.filter_text);
        if (!filter) return std::unexpected("bad DNSBL filter syntax: " + filter.error());
        site.filter.push_back(std::move(*filter));
        rest = rest.substr(0, eq);
    }
    if (!config::valid_hostname(rest, true))
        return std::unexpected(fmt::format("bad DNSBL domain name \"{}\" in \"{}\"", rest, entry));
    site.domain = std::string(rest);
    return site;
}

std::vector<std::string> split_dnsbl_sites(std::string_view value) {
    std::vector<std::string> out;
    for (auto token : util::split_tokens(value, util::kListSeparators)) out.emplace_back(token);
    return out;
}

}  // namespace pf::postscreen
