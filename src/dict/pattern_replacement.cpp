// Result text of pcre/regexp rules; see pattern_replacement.h.
#include "dict/pattern_replacement.h"

#include "util/msg.h"

#include <climits>
#include <fmt/core.h>

namespace pf::dict {
namespace {

bool name_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// atoi() of a digit string as glibc computes it: strtol() saturating at
// LONG_MAX, then truncated to int; the reference keeps the int in a size_t.
size_t group_index(std::string_view digits) {
    unsigned long long v = 0;
    bool saturated = false;
    for (char c : digits) {
        if (saturated) break;
        v = v * 10 + static_cast<unsigned>(c - '0');
        if (v > static_cast<unsigned long long>(LONG_MAX)) saturated = true;
    }
    long l = saturated ? LONG_MAX : static_cast<long>(v);
    int i = static_cast<int>(static_cast<unsigned int>(static_cast<unsigned long>(l)));
    return static_cast<size_t>(static_cast<long>(i));
}

}  // namespace

PatternReplacement PatternReplacement::literal(std::string text) {
    PatternReplacement r;
    r.pieces_.push_back(Piece{false, 0, std::move(text)});
    return r;
}

std::optional<PatternReplacement> PatternReplacement::parse(std::string_view text, std::string_view zero_word,
                                                            const std::function<void(const std::string&)>& warn_rule) {
    PatternReplacement r;
    bool bad = false;
    std::string lit;
    auto flush = [&] {
        if (!lit.empty()) r.pieces_.push_back(Piece{false, 0, std::move(lit)});
        lit.clear();
    };
    size_t i = 0;
    const size_t n = text.size();
    while (i < n) {
        char c = text[i];
        if (c != '$') {
            lit += c;
            ++i;
            continue;
        }
        if (i + 1 < n && text[i + 1] == '$') {
            lit += '$';
            i += 2;
            continue;
        }
        flush();
        ++i;
        std::string_view name;
        if (i < n && (text[i] == '{' || text[i] == '(')) {
            char open = text[i];
            char close = open == '{' ? '}' : ')';
            size_t j = i + 1;
            int level = 1;
            while (j < n) {
                if (text[j] == open) ++level;
                else if (text[j] == close && --level == 0) break;
                ++j;
            }
            if (j >= n) {
                util::msg_warn("truncated macro reference: \"{}\"", text);
                bad = true;
                break;
            }
            name = text.substr(i + 1, j - i - 1);
            i = j + 1;
            // The reference's scanner stops at a bracketed reference once
            // an earlier reference was bad ("$0${1}$" says nothing more).
            if (bad) break;
        } else {
            size_t j = i;
            while (j < n && name_char(text[j])) ++j;
            name = text.substr(i, j - i);
            i = j;
        }
        if (name.empty()) {
            util::msg_warn("empty macro name: \"{}\"", text);
            bad = true;
            break;
        }
        if (!all_digits(name)) {
            warn_rule(fmt::format("non-numeric replacement index \"{}\"", name));
            bad = true;
            continue;
        }
        size_t index = group_index(name);
        if (index < 1) {
            warn_rule(fmt::format("{} replacement index \"{}\"", zero_word, name));
            bad = true;
            continue;
        }
        if (index > r.max_group_) r.max_group_ = index;
        r.pieces_.push_back(Piece{true, index, {}});
    }
    if (bad) return std::nullopt;
    flush();
    return r;
}

std::string PatternReplacement::expand(const std::function<std::string_view(size_t)>& group) const {
    std::string out;
    for (const auto& p : pieces_) {
        if (p.is_group) out += group(p.group);
        else out += p.literal;
    }
    return out;
}

}  // namespace pf::dict
