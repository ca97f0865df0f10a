// The result text of a pcre or regexp table rule: literal text with "$$" for
// a dollar sign and "$n", "${n}", "$(n)" for the text matched by
// sub-expression n (empty when that group did not take part in the match).
// Parsing follows the reference's macro scanner (mac_parse) and rule checks:
//   - a name is a run of ASCII letters, digits and '_' after '$', or the text
//     between a matching pair of braces or parentheses (only the same kind
//     of bracket nests);
//   - "empty macro name: "<text>"" and "truncated macro reference:
//     "<text>"" end the scan; a non-numeric name ("non-numeric replacement
//     index") or index 0 ("out of range"/"out-of-range replacement index")
//     is reported and the scan goes on, up to the next bracketed
//     reference, where it ends silently; any of these makes the rule bad;
//   - the index is the C library's atoi() of the digits, seen as a size_t
//     (so "$4294967297" is group 1 and "$2147483648" is out of range).
//
// Trust: the text comes from a table file; every input is accepted.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::dict {

class PatternReplacement {
public:
    struct Piece {
        bool is_group = false;
        size_t group = 0;
        std::string literal;
    };

    // A replacement that is taken as it is (postmap -F, negative rules' text
    // after its check).
    static PatternReplacement literal(std::string text);

    // Parses text. warn(text) reports a diagnostic in the table's words
    // ("<kind> map <file>, line <n>: " is added by the caller); zero_word is
    // "out of range" (pcre) or "out-of-range" (regexp). Returns nullopt when
    // the text is bad (the caller then reports "bad replacement syntax").
    static std::optional<PatternReplacement> parse(std::string_view text, std::string_view zero_word,
                                                    const std::function<void(const std::string&)>& warn_rule);

    // The highest group index used (0: none).
    size_t max_group() const { return max_group_; }

    // group(n) gives the text of group n (n <= max_group()).
    std::string expand(const std::function<std::string_view(size_t)>& group) const;

private:
    std::vector<Piece> pieces_;
    size_t max_group_ = 0;
};

}  // namespace pf::dict
