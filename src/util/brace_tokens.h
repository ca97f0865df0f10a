// Brace-aware tokens, as the reference splits lists whose elements may be
// grouped with "{...}" (lookup table lists such as "inline:{a=b, c=d}",
// "unionmap:{...}"): a separator inside braces does not end a token, and a
// "{...}" group is taken apart with the reference's two diagnostics
// ("missing '}' in ..." and "syntax error after '}' in ...").
//
// Trust: any text; no allocation beyond the error string, never reads past
// the input.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::util {

// Skips leading separators in cursor and returns the next token: text up to
// the next separator outside braces. A '}' without an open '{' is an ordinary
// character; an unclosed '{' extends the token to the end of the text.
// Advances cursor past the token and one separator; nullopt at the end.
std::optional<std::string_view> next_braced_token(std::string_view& cursor, std::string_view separators);

struct BracedText {
    std::string_view inner;  // the text inside the braces
    std::string error;       // empty when the group is well formed
};

// Takes apart text that starts with '{'. Well formed "{inner}": inner.
// "{inner}trailing": inner, and error "syntax error after '}' in \"text\"".
// No matching '}': everything after the '{', and error "missing '}' in \"text\"".
BracedText strip_braces(std::string_view text);

// The words of a list parameter (mydestination, *_maps, ...): separated by
// commas and blanks (space, tab, CR, LF), a "{...}" group (nested groups
// too) kept in one word with its separators.
std::vector<std::string> split_braced_list(std::string_view text);

}  // namespace pf::util
