// The address tokenizer and the token-list printers (internal and external
// form); see address_token.h. Behaviour follows the reference's tokenizer:
// blanks, CR and LF separate tokens and become one blank inside tokens, a
// backslash quotes the next byte everywhere but in comments (where it is
// kept), unterminated constructs end at the end of input.
#include "mail/address_token.h"

#include "mail/address_quote.h"
#include "util/msg.h"

#include <cstring>

namespace pf::mail {

using util::msg_warn;
using util::msg_info;
using util::msg_panic;

namespace {

constexpr std::string_view kOperators = "|%!()<>@,;:\\\".[]";

bool is_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_ctrl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Collects bytes while keep(c) holds; a backslash takes the next byte
// whatever it is (and is dropped); blanks are stored as ' '.
template <typename Keep>
std::size_t collect(std::string_view in, std::size_t i, std::string& out, Keep keep) {
    while (i < in.size()) {
        auto c = static_cast<unsigned char>(in[i]);
        if (c == '\\') {
            if (++i >= in.size()) break;
            c = static_cast<unsigned char>(in[i]);
        } else if (!keep(c)) {
            break;
        }
        out.push_back(is_blank(c) ? ' ' : static_cast<char>(c));
        ++i;
    }
    return i;
}

bool is_word(const AddressToken& t) {
    switch (t.kind) {
    case TokenKind::atom:
    case TokenKind::quoted_string:
    case TokenKind::comment:
    case TokenKind::domain_literal:
    case TokenKind::address:
        return true;
    default:
        return false;
    }
}

bool is_op(const AddressToken& t, char c) {
    return (t.kind == TokenKind::special && t.op == c);
}

// A blank after tokens[i] at top level (the reference's spacing rule).
bool space_after(const TokenList& tokens, std::size_t i) {
    if (i + 1 >= tokens.size()) return false;
    const auto& t = tokens[i];
    const auto& next = tokens[i + 1];
    if (is_op(t, ',') || t.kind == TokenKind::start_group || is_op(next, '<')) return true;
    return is_word(t) && is_word(next);
}

void copy_quoted(std::string& out, std::string_view text, std::string_view quote_set) {
    for (char c : text) {
        if (quote_set.find(c) != std::string_view::npos) out.push_back('\\');
        out.push_back(c);
    }
}

void internalize_into(std::string& out, const TokenList& tokens, unsigned flags, bool top) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const auto& t = tokens[i];
        switch (t.kind) {
        case TokenKind::address:
            internalize_into(out, t.children, kTokStrNone, false);
            break;
        case TokenKind::comment:
        case TokenKind::atom:
        case TokenKind::quoted_string:
            out.append(t.text);
            break;
        case TokenKind::domain_literal:
            out.push_back('[');
            out.append(t.text);
            out.push_back(']');
            break;
        case TokenKind::start_group:
            out.push_back(':');
            break;
        case TokenKind::special:
            out.push_back(t.op);
            if (t.op == ',' && (flags & kTokStrLine)) {
                out.push_back('\n');
                continue;
            }
            break;
        }
        if (top && space_after(tokens, i)) out.push_back(' ');
    }
}

// printable(): non-printable bytes shown as '?'.
std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) c = '?';
    }
    return out;
}

}  // namespace

bool is_822_operator(char c) { return c != 0 && kOperators.find(c) != std::string_view::npos; }

TokenList scan_822(std::string_view text, std::size_t token_limit) {
    // The reference reads C strings: a NUL ends the input.
    if (auto nul = text.find('\0'); nul != std::string_view::npos) text = text.substr(0, nul);
    TokenList list;
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        if (is_blank(c)) {
            ++i;
            continue;
        }
        AddressToken t;
        if (c == '(') {
            t.kind = TokenKind::comment;
            t.text.push_back('(');
            int level = 1;
            ++i;
            while (i < text.size()) {
                char ch = text[i++];
                t.text.push_back(ch);
                if (ch == '(') {
                    ++level;
                } else if (ch == ')') {
                    if (--level == 0) break;
                } else if (ch == '\\') {
                    if (i >= text.size()) break;
                    t.text.push_back(text[i++]);
                }
            }
        } else if (c == '[') {
            t.kind = TokenKind::domain_literal;
            i = collect(text, i + 1, t.text, [](unsigned char ch) { return ch != ']'; });
            if (i < text.size()) ++i;
        } else if (c == '"') {
            t.kind = TokenKind::quoted_string;
            i = collect(text, i + 1, t.text, [](unsigned char ch) { return ch != '"'; });
            if (i < text.size()) ++i;
        } else if (c != '\\' && is_822_operator(static_cast<char>(c))) {
            t.kind = TokenKind::special;
            t.op = static_cast<char>(c);
            ++i;
        } else {
            t.kind = TokenKind::atom;
            i = collect(text, i, t.text,
                        [](unsigned char ch) { return !is_blank(ch) && !is_822_operator(static_cast<char>(ch)); });
            for (char ch : t.text) {
                auto u = static_cast<unsigned char>(ch);
                if (u == ' ' || is_ctrl(u) || is_822_operator(ch)) {
                    t.kind = TokenKind::quoted_string;
                    break;
                }
            }
        }
        list.push_back(std::move(t));
        if (token_limit > 0 && list.size() >= token_limit) break;
    }
    return list;
}

std::string internalize_822(const TokenList& tokens, unsigned flags) {
    std::string out;
    internalize_into(out, tokens, flags, true);
    return out;
}

std::string externalize_822(const TokenList& tokens, unsigned flags) {
    constexpr std::size_t kMaxNonAddress = 250;
    std::string out;
    // Per address expression (text between top-level commas): where it
    // starts, its address token and the length of that address's text.
    std::size_t start = 0;
    const AddressToken* addr = nullptr;
    std::size_t addr_len = 0;
    auto reset = [&] {
        start = out.size();
        addr = nullptr;
        addr_len = 0;
    };
    auto enforce = [&] {
        if (addr && out.size() - addr_len > start + kMaxNonAddress) {
            msg_warn("stripping too many comments from address: {:.100}...", printable(std::string_view(out).substr(start)));
            out.resize(start);
            out.push_back('<');
            if (addr->kind == TokenKind::address) quote_822_local_append(out, internalize_822(addr->children), kQuoteDefault);
            out.push_back('>');
        }
    };
    const bool truncate = (flags & kTokStrTruncate) != 0;
    if (truncate) reset();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const auto& t = tokens[i];
        switch (t.kind) {
        case TokenKind::special:
            if (t.op == ',') {
                if (truncate) enforce();
                out.push_back(',');
                out.push_back((flags & kTokStrLine) ? '\n' : ' ');
                if (truncate) reset();
                continue;
            }
            if (t.op == '<' && i + 1 < tokens.size() && is_op(tokens[i + 1], '>')) {
                addr = &t;  // "<>": the null address
                addr_len = 0;
            }
            out.push_back(t.op);
            break;
        case TokenKind::address: {
            addr = &t;
            std::size_t before = out.size();
            std::string internal;
            internalize_into(internal, t.children, kTokStrNone, false);
            quote_822_local_append(out, internal, kQuoteDefault);
            addr_len = out.size() - before;
            break;
        }
        case TokenKind::atom:
        case TokenKind::comment:
            out.append(t.text);
            break;
        case TokenKind::quoted_string:
            out.push_back('"');
            copy_quoted(out, t.text, "\"\\\r\n");
            out.push_back('"');
            break;
        case TokenKind::domain_literal:
            out.push_back('[');
            copy_quoted(out, t.text, "\\\r\n");
            out.push_back(']');
            break;
        case TokenKind::start_group:
            out.push_back(':');
            break;
        }
        if (space_after(tokens, i)) out.push_back(' ');
    }
    if (truncate) enforce();
    return out;
}

}  // namespace pf::mail
