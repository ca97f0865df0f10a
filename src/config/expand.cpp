// Parameter expansion; see expand.h for the syntax. Each nested call is a new
// Expander frame; the depth counter bounds recursion through parameter values.
#include "config/expand.h"

#include "util/msg.h"
#include "util/strings.h"

#include <cctype>
#include <charconv>

namespace pf::config {
namespace {

constexpr int kMaxDepth = 100;

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

struct Failure {
    ExpandStatus status;
};

class Expander {
public:
    explicit Expander(const ExpandHooks& hooks) : hooks_(hooks), scanning_(hooks.scan_only) {}

    std::string run(std::string_view text, int depth) {
        // Past the nesting limit the reference reports every later piece of
        // text it meets (at any level) until the expansion unwinds; a piece of
        // literal text after the last macro is dropped without a word.
        if (depth > kMaxDepth) nesting_failed_ = true;
        std::string out;
        size_t i = 0;
        while (i < text.size()) {
            size_t dollar = text.find('$', i);
            if (dollar == std::string_view::npos) {
                if (!nesting_failed_) out.append(text.substr(i));
                break;
            }
            if (dollar > i) literal(out, text.substr(i, dollar - i));
            i = dollar + 1;
            if (i >= text.size()) {
                util::msg_warn("empty macro name: \"{}\"", text);
                throw Failure{ExpandStatus::syntax_error};
            }
            char c = text[i];
            if (c == '$') {
                literal(out, "$");
                ++i;
            } else if (c == '{' || c == '(') {
                char close = c == '{' ? '}' : ')';
                size_t level = 1;
                size_t j = i + 1;
                for (; j < text.size(); ++j) {
                    if (text[j] == c) ++level;
                    else if (text[j] == close && --level == 0) break;
                }
                if (j >= text.size()) {
                    util::msg_warn("truncated macro reference: \"{}\"", text);
                    throw Failure{ExpandStatus::syntax_error};
                }
                std::string_view inner = text.substr(i + 1, j - i - 1);
                i = j + 1;
                if (inner.empty()) {
                    util::msg_warn("empty macro name: \"{}\"", text);
                    throw Failure{ExpandStatus::syntax_error};
                }
                if (nesting_failed_) {
                    too_deep(inner.substr(0, inner.find_first_of("?:")));
                } else if (inner.front() == '{') {
                    out += relational(inner, depth);
                } else {
                    out += conditional(inner, text, depth);
                }
            } else if (is_name_char(c)) {
                size_t j = i;
                while (j < text.size() && is_name_char(text[j])) ++j;
                std::string_view name = text.substr(i, j - i);
                if (nesting_failed_) too_deep(name);
                else out += reference(name, depth);
                i = j;
            } else {
                util::msg_warn("empty macro name: \"{}\"", text);
                throw Failure{ExpandStatus::syntax_error};
            }
        }
        return out;
    }

    bool nesting_failed() const { return nesting_failed_; }

private:
    // Value of a referenced parameter; nullopt when undefined.
    std::optional<std::string> value_of(std::string_view name) {
        if (hooks_.on_reference) hooks_.on_reference(name);
        if (scanning_) return std::string();
        std::optional<std::string> v = hooks_.lookup ? hooks_.lookup(name) : std::nullopt;
        if (!v && hooks_.on_undefined) hooks_.on_undefined(name);
        return v;
    }

    std::string reference(std::string_view name, int depth) {
        auto v = value_of(name);
        if (!v && !scanning_ && hooks_.on_undefined_plain) hooks_.on_undefined_plain(name);
        if (!v || scanning_) return {};
        if (!hooks_.recurse) return *v;
        return run(*v, depth + 1);
    }

    // ${name}, ${name?text}, ${name:text}, ${name?{a}:{b}}, ${name:{a}}.
    std::string conditional(std::string_view inner, std::string_view whole, int depth) {
        size_t op = inner.find_first_of("?:");
        std::string_view name = util::trim(inner.substr(0, op));
        if (name.empty()) {
            util::msg_warn("empty macro name: \"{}\"", whole);
            throw Failure{ExpandStatus::syntax_error};
        }
        for (size_t k = 0; k < name.size(); ++k) {
            if (!is_name_char(name[k])) {
                // The reference shows all of the text inside the braces.
                size_t at = static_cast<size_t>(name.data() - inner.data()) + k;
                util::msg_warn("attribute name syntax error at: \"...{}>>>{}\"", inner.substr(0, at), inner.substr(at));
                throw Failure{ExpandStatus::syntax_error};
            }
        }
        if (op == std::string_view::npos) return reference(name, depth);

        auto v = value_of(name);
        bool non_empty = v && !v->empty();
        bool want_value = inner[op] == '?';
        std::string_view rest = inner.substr(op + 1);
        std::string_view when_true = rest;
        std::string_view when_false;
        bool has_false = false;

        bool pick_true = want_value ? non_empty : !non_empty;
        std::string_view lead = util::trim_left(rest);
        if (!lead.empty() && lead.front() == '{') {
            size_t pos = rest.size() - lead.size();
            when_true = braced(rest, pos);
            pos = skip_space(rest, pos);
            if (pos < rest.size()) {
                if (want_value && rest[pos] == ':') {
                    pos = skip_space(rest, pos + 1);
                    if (pos >= rest.size() || rest[pos] != '{') unexpected(when_true, rest, pos);
                    when_false = braced(rest, pos);
                    has_false = true;
                    pos = skip_space(rest, pos);
                    if (pos < rest.size()) unexpected(when_false, rest, pos);
                } else if (want_value) {
                    fail_at("\":\" expected", when_true, rest, pos);
                } else {
                    unexpected(when_true, rest, pos);
                }
            }
        }
        if (scanning_) {
            run(when_true, depth);
            if (has_false) run(when_false, depth);
            return {};
        }
        if (pick_true) return run(when_true, depth);
        if (has_false) return run(when_false, depth);
        return {};
    }

    // ${{a} OP {b} ? {t} : {f}}
    std::string relational(std::string_view inner, int depth) {
        size_t pos = 0;
        std::string_view left = braced(inner, pos);
        pos = skip_space(inner, pos);
        static constexpr std::string_view ops[] = {"==level", "!=level", "<=level", ">=level", "<level",
                                                   ">level",  "==",      "!=",      "<=",      ">=",
                                                   "<",       ">"};
        // The operator is the whole run of comparison characters (plus a
        // "level" suffix); "<>" is one bad operator, not "<" and junk.
        size_t op_end = pos;
        while (op_end < inner.size() && std::string_view("!<=>").find(inner[op_end]) != std::string_view::npos) ++op_end;
        // Letters or digits right after the operator are its suffix, and
        // "level" is the only one there is.
        size_t suffix_end = op_end;
        while (suffix_end < inner.size() && std::isalnum(static_cast<unsigned char>(inner[suffix_end]))) ++suffix_end;
        if (suffix_end > op_end) {
            std::string_view suffix = inner.substr(op_end, suffix_end - op_end);
            if (suffix != "level") {
                util::msg_warn("bad operator suffix at: \"...{}>>>{}\"", inner.substr(pos, op_end - pos), suffix);
                throw Failure{ExpandStatus::syntax_error};
            }
            op_end = suffix_end;
        }
        std::string_view op;
        for (auto candidate : ops) {
            if (inner.substr(pos, op_end - pos) == candidate) {
                op = candidate;
                break;
            }
        }
        if (op.empty())
            fail_at("\"==\" or \"!=\"\" or \"<\"\" or \"<=\"\" or \">=\"\" or \">\" expected", left, inner, pos);
        size_t after_op = pos + op.size();
        pos = skip_space(inner, after_op);
        if (pos >= inner.size() || inner[pos] != '{') {
            util::msg_warn("\"{{expression}}\" expected at: \"...{{{}}} {}>>>{}\"", left, op, inner.substr(after_op));
            throw Failure{ExpandStatus::syntax_error};
        }
        std::string_view right = braced(inner, pos);
        pos = skip_space(inner, pos);
        // Then "? true-branch", ": false-branch", both, or neither; a branch
        // is {text} or the plain rest of the expression.
        std::string_view when_true, when_false;
        bool has_false = false;
        auto branch = [&](std::string_view& into) {
            pos = skip_space(inner, pos + 1);
            if (pos < inner.size() && inner[pos] == '{') {
                into = braced(inner, pos);
                pos = skip_space(inner, pos);
                return true;
            }
            into = inner.substr(pos);
            pos = inner.size();
            return false;
        };
        bool bare = pos >= inner.size();  // no branches: "true" or nothing
        if (pos < inner.size()) {
            if (inner[pos] == '?') {
                if (branch(when_true) && pos < inner.size()) {
                    if (inner[pos] != ':') fail_at("\":\" expected", when_true, inner, pos);
                    has_false = true;
                    if (branch(when_false) && pos < inner.size()) unexpected(when_false, inner, pos);
                }
            } else if (inner[pos] == ':') {
                has_false = true;
                if (branch(when_false) && pos < inner.size()) unexpected(when_false, inner, pos);
            } else {
                fail_at("\"?\" or \":\" expected", "", inner, pos);
            }
        }
        if (scanning_) {
            // Operands are evaluated for real when values can be looked up,
            // so a malformed comparison is caught while scanning too.
            if (hooks_.lookup) {
                scanning_ = false;
                std::string a = run(left, depth);
                std::string b = run(right, depth);
                scanning_ = true;
                (void)evaluate(a, op, b);
            } else {
                run(left, depth);
                run(right, depth);
            }
            run(when_true, depth);
            if (has_false) run(when_false, depth);
            return {};
        }
        std::string a = run(left, depth);
        std::string b = run(right, depth);
        bool result = evaluate(a, op, b);
        if (bare) return result ? "true" : "";
        if (result) return run(when_true, depth);
        if (has_false) return run(when_false, depth);
        return {};
    }

    static bool evaluate(const std::string& a, std::string_view op, const std::string& b) {
        int cmp;
        if (op.ends_with("level")) {
            auto c = compare_compat_levels(a, b);
            if (!c) {
                bool a_ok = compare_compat_levels(a, "0").has_value();
                util::msg_warn("malformed compatibility level syntax: \"{}\"", a_ok ? b : a);
                throw Failure{ExpandStatus::syntax_error};
            }
            cmp = *c;
            op = op.substr(0, op.size() - 5);
        } else {
            long long x = 0, y = 0;
            auto rx = std::from_chars(a.data(), a.data() + a.size(), x);
            auto ry = std::from_chars(b.data(), b.data() + b.size(), y);
            bool numeric = !a.empty() && !b.empty() && rx.ec == std::errc() && ry.ec == std::errc() &&
                           rx.ptr == a.data() + a.size() && ry.ptr == b.data() + b.size();
            if (numeric) cmp = x < y ? -1 : (x > y ? 1 : 0);
            else cmp = a.compare(b) < 0 ? -1 : (a.compare(b) > 0 ? 1 : 0);
        }
        if (op == "==") return cmp == 0;
        if (op == "!=") return cmp != 0;
        if (op == "<") return cmp < 0;
        if (op == "<=") return cmp <= 0;
        if (op == ">") return cmp > 0;
        return cmp >= 0;
    }

    static size_t skip_space(std::string_view s, size_t pos) {
        while (pos < s.size() && util::is_space(s[pos])) ++pos;
        return pos;
    }

    // s[pos] is '{': returns the text up to the matching '}' and moves pos past it.
    std::string_view braced(std::string_view s, size_t& pos) {
        size_t level = 0;
        for (size_t j = pos; j < s.size(); ++j) {
            if (s[j] == '{') ++level;
            else if (s[j] == '}' && --level == 0) {
                std::string_view body = s.substr(pos + 1, j - pos - 1);
                pos = j + 1;
                return body;
            }
        }
        util::msg_warn("missing '}}' at: \"...>>>{}\"", s.substr(pos));
        throw Failure{ExpandStatus::syntax_error};
    }

    // "...<last {text} without its opening brace>>>><rest>", as the reference shows it.
    [[noreturn]] static void fail_at(std::string_view what, std::string_view last, std::string_view s, size_t pos) {
        util::msg_warn("{} at: \"...{}}}>>>{}\"", what, last, s.substr(pos));
        throw Failure{ExpandStatus::syntax_error};
    }

    [[noreturn]] static void unexpected(std::string_view last, std::string_view s, size_t pos) {
        fail_at("unexpected input", last, s, pos);
    }

    void literal(std::string& out, std::string_view piece) {
        if (nesting_failed_) too_deep(piece);
        else out.append(piece);
    }

    static void too_deep(std::string_view piece) {
        util::msg_warn("unreasonable macro call nesting: \"{}\"", piece);
    }

    const ExpandHooks& hooks_;
    bool nesting_failed_ = false;
    bool scanning_;  // scan mode, switched off while relational operands are evaluated
};

// Splits a level into its numeric parts; false when malformed.
bool parse_level(std::string_view s, long (&parts)[3]) {
    parts[0] = parts[1] = parts[2] = 0;
    int n = 0;
    size_t i = 0;
    while (true) {
        if (n == 3 || i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        long v = 0;
        auto r = std::from_chars(s.data() + i, s.data() + s.size(), v);
        if (r.ec != std::errc()) return false;
        parts[n++] = v;
        i = static_cast<size_t>(r.ptr - s.data());
        if (i == s.size()) return true;
        if (s[i] != '.') return false;
        ++i;
    }
}

}  // namespace

std::optional<int> compare_compat_levels(std::string_view a, std::string_view b) {
    long pa[3], pb[3];
    if (!parse_level(util::trim(a), pa) || !parse_level(util::trim(b), pb)) return std::nullopt;
    for (int k = 0; k < 3; ++k) {
        if (pa[k] != pb[k]) return pa[k] < pb[k] ? -1 : 1;
    }
    return 0;
}

ExpandResult expand(std::string_view text, const ExpandHooks& hooks) {
    Expander e(hooks);
    try {
        std::string out = e.run(text, 0);
        if (e.nesting_failed()) return {std::string(), ExpandStatus::nesting_error};
        return {std::move(out), ExpandStatus::ok};
    } catch (const Failure& f) {
        return {std::string(), f.status};
    }
}

}  // namespace pf::config
