// Brace-aware tokens; see brace_tokens.h.
#include "util/brace_tokens.h"

namespace pf::util {

std::optional<std::string_view> next_braced_token(std::string_view& cursor, std::string_view separators) {
    size_t start = cursor.find_first_not_of(separators);
    if (start == std::string_view::npos) {
        cursor = {};
        return std::nullopt;
    }
    int level = 0;
    size_t i = start;
    for (; i < cursor.size(); ++i) {
        char c = cursor[i];
        if (c == '{') {
            ++level;
        } else if (c == '}' && level > 0) {
            --level;
        } else if (level == 0 && separators.find(c) != std::string_view::npos) {
            break;
        }
    }
    std::string_view token = cursor.substr(start, i - start);
    cursor = i < cursor.size() ? cursor.substr(i + 1) : std::string_view{};
    return token;
}

BracedText strip_braces(std::string_view text) {
    int level = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '{') {
            ++level;
        } else if (text[i] == '}' && --level == 0) {
            BracedText r{text.substr(1, i - 1), {}};
            if (i + 1 < text.size()) r.error = "syntax error after '}' in \"" + std::string(text) + "\"";
            return r;
        }
    }
    return {text.substr(text.empty() ? 0 : 1), "missing '}' in \"" + std::string(text) + "\""};
}

std::vector<std::string> split_braced_list(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    int depth = 0;
    for (char c : text) {
        if (c == '{') ++depth;
        if (c == '}' && depth > 0) --depth;
        if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
            if (!cur.empty()) out.push_back(std::move(cur));
            cur.clear();
            continue;
        }
        cur.push_back(c);
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

}  // namespace pf::util
