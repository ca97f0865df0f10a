// postsuper(1): the inode number a queue file name claims, and the name a
// file should have for its inode (-s, -S). Reproduces the reference's
// decoding exactly, including what it tolerates: a short name's inode part
// is read like strtoul(3) in base 16 (lower-case digits and a "0x" prefix
// pass, an empty part reads as 0), a long name's like its own base-51
// reader (an empty part reads as 0); anything left unread, or a number too
// large, is an error and the file is reported as a bogus name.
//
// Trust: names come from directory entries; they have passed the
// letters/digits/'_' check, but their length and content are otherwise
// arbitrary.
#include "cmd/postsuper/postsuper.h"

#include <climits>
#include <fmt/core.h>

namespace pf::postsuper {
namespace {

constexpr std::string_view kSafeChars = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
constexpr std::size_t kShortUsecWidth = 5;
constexpr std::size_t kLongTimeWidth = 10;  // six or more seconds digits, four microsecond digits
constexpr std::size_t kLongUsecWidth = 4;
constexpr int kLongUsecBase = 52;
constexpr int kLongInodeBase = 51;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// strtoul(text, &end, 16) as glibc does it, for text without blanks or
// signs: value, the count of characters consumed, and overflow.
struct Parsed {
    unsigned long value = 0;
    std::size_t used = 0;
    bool overflow = false;
};

Parsed parse_hex(std::string_view text) {
    Parsed out;
    std::size_t pos = 0;
    if (text.size() >= 3 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') && hex_value(text[2]) >= 0)
        pos = 2;
    std::size_t start = pos;
    for (; pos < text.size() && hex_value(text[pos]) >= 0; ++pos) {
        auto digit = static_cast<unsigned long>(hex_value(text[pos]));
        if (out.value > (ULONG_MAX - digit) / 16) out.overflow = true;
        if (!out.overflow) out.value = out.value * 16 + digit;
    }
    if (pos == start) return {};  // nothing converted: end is the start
    if (out.overflow) out.value = ULONG_MAX;
    out.used = pos;
    return out;
}

// The reference's safe_strtoul() in the vowel-free alphabet.
Parsed parse_safe(std::string_view text, int base) {
    Parsed out;
    const unsigned long div_limit = ULONG_MAX / static_cast<unsigned long>(base);
    const unsigned long mod_limit = ULONG_MAX % static_cast<unsigned long>(base);
    std::size_t pos = 0;
    for (; pos < text.size(); ++pos) {
        auto found = kSafeChars.find(text[pos]);
        if (found == std::string_view::npos || found >= static_cast<std::size_t>(base)) break;
        if (out.overflow) continue;
        if (out.value > div_limit || (out.value == div_limit && found > mod_limit)) {
            out.overflow = true;
            out.value = ULONG_MAX;
            continue;
        }
        out.value = out.value * static_cast<unsigned long>(base) + found;
    }
    out.used = pos;
    return out;
}

std::string encode_safe(unsigned long value, int base) {
    std::string out;
    for (; value != 0; value /= static_cast<unsigned long>(base))
        out.insert(out.begin(), kSafeChars[value % static_cast<unsigned long>(base)]);
    return out;
}

// Position of the separator of a long name, or npos.
std::size_t long_separator(std::string_view name) {
    auto sep = name.rfind('z');
    return sep != std::string_view::npos && sep >= kLongTimeWidth ? sep : std::string_view::npos;
}

}  // namespace

InodeOfName inode_of_name(std::string_view name) {
    InodeOfName out;
    if (auto sep = long_separator(name); sep != std::string_view::npos) {
        out.long_form = true;
        auto digits = name.substr(sep + 1);
        Parsed parsed = parse_safe(digits, kLongInodeBase);
        out.inode = parsed.value;
        out.error = parsed.overflow || parsed.used != digits.size();
        return out;
    }
    // A name shorter than the microsecond field has no inode part at all;
    // the reference reads past its end, which we call an error.
    if (name.size() < kShortUsecWidth) {
        out.error = true;
        return out;
    }
    auto digits = name.substr(kShortUsecWidth);
    Parsed parsed = parse_hex(digits);
    out.inode = parsed.value;
    out.error = parsed.overflow || parsed.used != digits.size();
    return out;
}

std::string name_for_inode(std::string_view id, unsigned long inode, bool long_ids) {
    auto sep = long_separator(id);
    if (sep == std::string_view::npos)
        return fmt::format("{}{:X}", id.substr(0, std::min(id.size(), kShortUsecWidth)), inode);
    if (long_ids) return fmt::format("{}z{}", id.substr(0, sep), encode_safe(inode, kLongInodeBase));
    // Long to short: the microseconds, re-encoded as five hex digits.
    Parsed usec = parse_safe(id.substr(sep - kLongUsecWidth, kLongUsecWidth), kLongUsecBase);
    return fmt::format("{:05X}{:X}", static_cast<unsigned>(usec.value), inode);
}

}  // namespace pf::postsuper
