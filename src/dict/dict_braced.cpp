// Braced table names; see dict_braced.h.
#include "dict/dict_braced.h"

#include "util/brace_tokens.h"

namespace pf::dict {

std::optional<std::string_view> braced_body(std::string_view name) {
    if (name.size() < 3 || name.front() != '{') return std::nullopt;
    util::BracedText t = util::strip_braces(name);
    if (!t.error.empty()) return std::nullopt;
    return t.inner;
}

std::vector<std::string_view> braced_elements(std::string_view body) {
    std::vector<std::string_view> out;
    std::string_view cursor = body;
    while (auto token = util::next_braced_token(cursor, ", \t\r\n")) out.push_back(*token);
    return out;
}

}  // namespace pf::dict
