// aliases(5) source reader and RFC 822 tokens; see alias_source.h.
#include "dict/alias_source.h"

#include "util/msg.h"
#include "util/utf8.h"

#include <cstring>

namespace pf::dict {
namespace {

using Type = AliasToken::Type;

// The operators that end an atom ('\\' only where it does not escape).
constexpr std::string_view kOperators = "|%!()<>@,;:\\\".[]";

bool separator(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_operator(unsigned char c) { return c != 0 && kOperators.find(static_cast<char>(c)) != std::string_view::npos; }

// Collects bytes from line[pos] while more(c) holds; a backslash takes the
// next byte whatever it is (and ends the text at the end of the line);
// separators become spaces.
template <typename More>
size_t collect(std::string_view line, size_t pos, std::string& text, More more) {
    while (pos < line.size()) {
        unsigned char c = static_cast<unsigned char>(line[pos]);
        if (c == '\\') {
            if (++pos >= line.size()) break;
            c = static_cast<unsigned char>(line[pos]);
        } else if (!more(c)) {
            break;
        }
        text += separator(c) ? ' ' : static_cast<char>(c);
        ++pos;
    }
    return pos;
}

// A comment, kept in its written form with its parentheses; they nest.
size_t comment(std::string_view line, size_t pos, std::string& text) {
    int depth = 1;
    text = "(";
    while (pos < line.size()) {
        char c = line[pos++];
        text += c;
        if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (--depth == 0) break;
        } else if (c == '\\') {
            if (pos >= line.size()) break;
            text += line[pos++];
        }
    }
    return pos;
}

bool word(const AliasToken& t) { return t.type != Type::op; }

// Whether a space goes after token i (within [.., end)).
bool space_after(const std::vector<AliasToken>& tokens, size_t i, size_t end) {
    if (i + 1 >= end) return false;
    const AliasToken& t = tokens[i];
    const AliasToken& n = tokens[i + 1];
    if ((t.type == Type::op && t.op == ',') || (n.type == Type::op && n.op == '<')) return true;
    return word(t) && word(n);
}

void append_escaped(std::string& out, std::string_view text, std::string_view specials) {
    for (char c : text) {
        if (specials.find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
}

bool find_op(const std::vector<AliasToken>& tokens, size_t end, char op) {
    for (size_t i = 0; i < end; ++i)
        if (tokens[i].type == Type::op && tokens[i].op == op) return true;
    return false;
}

}  // namespace

std::vector<AliasToken> alias_tokenize(std::string_view line) {
    std::vector<AliasToken> tokens;
    size_t pos = 0;
    while (pos < line.size()) {
        unsigned char c = static_cast<unsigned char>(line[pos]);
        if (c == 0) break;
        if (separator(c)) {
            ++pos;
            continue;
        }
        AliasToken t{Type::atom, 0, {}};
        if (c == '(') {
            t.type = Type::comment;
            pos = comment(line, pos + 1, t.text);
        } else if (c == '[' || c == '"') {
            t.type = c == '[' ? Type::domlit : Type::qstring;
            char close = c == '[' ? ']' : '"';
            pos = collect(line, pos + 1, t.text, [close](unsigned char x) { return x != static_cast<unsigned char>(close); });
            if (pos < line.size()) ++pos;
        } else if (c != '\\' && is_operator(c)) {
            t.type = Type::op;
            t.op = static_cast<char>(c);
            ++pos;
        } else {
            pos = collect(line, pos, t.text, [](unsigned char x) { return !separator(x) && !is_operator(x); });
            // An atom with a space, a control character or an operator in
            // it (escaped) is written back as a quoted string.
            for (unsigned char x : t.text) {
                if (x == ' ' || x < 0x20 || x == 0x7f || is_operator(x)) {
                    t.type = Type::qstring;
                    break;
                }
            }
        }
        tokens.push_back(std::move(t));
    }
    return tokens;
}

std::string alias_internal_form(const std::vector<AliasToken>& tokens, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end; ++i) {
        const AliasToken& t = tokens[i];
        switch (t.type) {
        case Type::op: out += t.op; break;
        case Type::domlit: out += '['; out += t.text; out += ']'; break;
        default: out += t.text; break;
        }
        if (space_after(tokens, i, end)) out += ' ';
    }
    return out;
}

std::string alias_external_form(const std::vector<AliasToken>& tokens, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end; ++i) {
        const AliasToken& t = tokens[i];
        switch (t.type) {
        case Type::op:
            out += t.op;
            if (t.op == ',') {
                out += ' ';
                continue;
            }
            break;
        case Type::qstring:
            out += '"';
            append_escaped(out, t.text, "\"\\\r\n");
            out += '"';
            break;
        case Type::domlit:
            out += '[';
            append_escaped(out, t.text, "\\\r\n");
            out += ']';
            break;
        default: out += t.text; break;
        }
        if (space_after(tokens, i, end)) out += ' ';
    }
    return out;
}

AliasSplit split_alias_line(std::string_view line, KeyValue& out) {
    std::vector<AliasToken> tokens = alias_tokenize(line);
    if (tokens.empty()) return AliasSplit::empty;
    size_t colon = 0;
    while (colon < tokens.size() && !(tokens[colon].type == Type::op && tokens[colon].op == ':')) ++colon;
    if (colon == tokens.size() || colon == 0 || colon + 1 == tokens.size() || find_op(tokens, colon, ','))
        return AliasSplit::need_pair;
    if (find_op(tokens, colon, '@') || find_op(tokens, colon, '%')) return AliasSplit::not_local;
    out.key = alias_internal_form(tokens, 0, colon);
    out.value = alias_external_form(tokens, colon + 1, tokens.size());
    return AliasSplit::ok;
}

AliasSource::AliasSource(std::string content, std::string path, bool utf8_check)
    : lines_(std::move(content), path), path_(std::move(path)), utf8_check_(utf8_check) {}

std::optional<SourceEntry> AliasSource::next() {
    while (auto line = lines_.next()) {
        std::string_view text(line->text.c_str());
        if (utf8_check_ && !util::all_ascii(text) && !util::valid_utf8(line->text)) {
            util::msg_warn("{}, line {}: non-UTF-8 input \"{}\" -- ignoring this line", path_, line->lineno, text);
            continue;
        }
        KeyValue kv;
        switch (split_alias_line(text, kv)) {
        case AliasSplit::empty: continue;
        case AliasSplit::need_pair:
            util::msg_warn("{}, line {}: need name:value pair", path_, line->lineno);
            continue;
        case AliasSplit::not_local:
            util::msg_warn("{}, line {}: name must be local", path_, line->lineno);
            continue;
        case AliasSplit::ok: break;
        }
        return SourceEntry{std::move(kv.key), std::move(kv.value), line->lineno};
    }
    return std::nullopt;
}

}  // namespace pf::dict
