// Address to domain, domain to parent domain: qshape(1)'s three
// substitutions and its -p step, hand-written (see qshape_domain.h) so that
// "." never matches a newline and "$" also matches before a final newline,
// as in Perl.
#include "cmd/qshape/qshape_domain.h"

namespace pf::qshape {
namespace {

// Perl's "$" without /m: the end, or just before a newline that ends it.
bool at_end(std::string_view s, std::size_t i) { return i == s.size() || (i + 1 == s.size() && s[i] == '\n'); }

// Drops everything up to the last "@" of the first line that holds one.
void strip_local_part(std::string& s) {
    const std::size_t first_at = s.find('@');
    if (first_at == std::string::npos) return;
    const std::size_t line_start = first_at == 0 ? 0 : s.rfind('\n', first_at - 1) + 1;
    std::size_t line_end = s.find('\n', first_at);
    if (line_end == std::string::npos) line_end = s.size();
    const std::size_t last_at = s.rfind('@', line_end - 1);
    s.erase(line_start, last_at + 1 - line_start);
}

// ".." becomes ".", left to right, without overlap.
void squeeze_dots(std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        out += s[i];
        if (s[i] == '.' && i + 1 < s.size() && s[i + 1] == '.') ++i;
    }
    s.swap(out);
}

// An optional dot, the shortest run of non-newlines, an optional dot, the
// end: replaced by the run.
void trim_dots(std::string& s) {
    const std::size_t n = s.size();
    for (std::size_t start = 0; start < n; ++start) {
        for (int take_dot = 1; take_dot >= 0; --take_dot) {
            if (take_dot && s[start] != '.') continue;
            const std::size_t group = start + static_cast<std::size_t>(take_dot);
            for (std::size_t k = group + 1; k <= n && s[k - 1] != '\n'; ++k) {
                std::size_t match_end = 0;
                if (k < n && s[k] == '.' && at_end(s, k + 1)) match_end = k + 1;
                else if (at_end(s, k)) match_end = k;
                else continue;
                s = s.substr(0, start) + s.substr(group, k - group) + s.substr(match_end);
                return;
            }
        }
    }
}

}  // namespace

std::string lower_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string address_domain(std::string_view address) {
    std::string s(address);
    strip_local_part(s);
    squeeze_dots(s);
    trim_dots(s);
    return s;
}

bool parent_domain(std::string& name) {
    // ^ \.? [^.]+ \. (.*\.)  ->  "." and the group, the rest kept.
    std::size_t i = !name.empty() && name[0] == '.' ? 1 : 0;
    const std::size_t dot = name.find('.', i);
    if (dot == std::string::npos || dot == i) return false;
    const std::size_t group = dot + 1;
    std::size_t line_end = name.find('\n', group);
    if (line_end == std::string::npos) line_end = name.size();
    if (line_end == group) return false;
    const std::size_t last_dot = name.rfind('.', line_end - 1);
    if (last_dot == std::string::npos || last_dot < group) return false;
    name = "." + name.substr(group);
    return true;
}

}  // namespace pf::qshape
