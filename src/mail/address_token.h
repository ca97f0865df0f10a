// RFC 822/5322 address tokens, as the reference's address tokenizer sees
// them: atoms, quoted strings, domain literals, comments and the special
// characters that structure an address, plus two kinds made by the parser
// (an address, and the phrase that names a group). The tokenizer is
// deliberately forgiving, like the reference's: it never fails, an
// unterminated quoted string, comment or domain literal ends at the end of
// the input, and a backslash quotes the next byte anywhere.
//
// Which bytes are operators (one-byte tokens): ( ) < > @ , ; : \ " . [ ]
// and also | % ! (the reference counts the routing characters and the
// alias-file pipe as operators). Blanks, CR and LF separate tokens. An atom
// that, after backslash-unescaping, holds a blank, a control character or
// an operator becomes a quoted string (so it is quoted when externalized).
//
// Two passes exist, as in the reference:
//  - scan_822 / scan_822_address: a flat token list (one address: the
//    command line, an envelope address);
//  - parse_822_list (address_list.h): a header value, with the tokens of
//    each address grouped under an Address token.
//
// Trust: input is arbitrary bytes from the network; memory grows with the
// input only, and comment nesting is not recursive.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

enum class TokenKind {
    special,         // an operator character (op holds it)
    atom,            // text: the bytes, backslashes removed
    quoted_string,   // text: the contents without the quotes, backslashes removed
    domain_literal,  // text: the contents WITHOUT the brackets, backslashes removed
    comment,         // text: the external form, with parentheses and backslashes
    address,         // parser only: children are one address's tokens
    start_group,     // parser only: the ':' that starts a group (op is ':')
};

struct AddressToken {
    TokenKind kind = TokenKind::atom;
    char op = 0;            // the character, for special and start_group
    std::string text;       // see TokenKind
    std::vector<AddressToken> children;  // address tokens only

    static AddressToken special_token(char c) { return {TokenKind::special, c, {}, {}}; }
    static AddressToken atom(std::string t) { return {TokenKind::atom, 0, std::move(t), {}}; }
    bool is_special(char c) const { return kind == TokenKind::special && op == c; }
};

using TokenList = std::vector<AddressToken>;

// The operators of the tokenizer.
bool is_822_operator(char c);

// Tokenizes text into a flat list (no address grouping). Comments are kept.
// token_limit > 0 stops after that many tokens (the reference's
// token_limit for headers).
TokenList scan_822(std::string_view text, std::size_t token_limit = 0);

// One address (envelope, command line): the flat token list of the whole
// text, to be treated as ONE address (the reference's scan of a single
// address; rewrite and resolve work on it). Same as scan_822.
inline TokenList scan_822_address(std::string_view text) { return scan_822(text); }

// How to turn tokens back into text.
enum ExternalizeFlags : unsigned {
    kTokStrNone = 0,
    kTokStrLine = 1u << 2,      // a newline (not a blank) after each top-level comma
    kTokStrTruncate = 1u << 3,  // externalize: an address expression with more than
                                // 250 bytes of comments/phrases becomes "<address>"
                                // (with a warning), as the reference guards Sendmail
    kTokStrHeader = kTokStrLine | kTokStrTruncate,  // how headers are written back
};

// External (quoted) form: quoted strings get their quotes back (with '"',
// '\\', CR and LF escaped), domain literals their brackets, addresses are
// internalized and then local-part quoted (address_quote.h); at top level
// a blank follows a comma (or a newline with kTokStrLine) and a group's
// ':', precedes '<', and separates two adjacent words (atom, quoted
// string, comment, domain literal, address).
std::string externalize_822(const TokenList& tokens, unsigned flags = kTokStrNone);
// Internal (unquoted) form: token texts as stored (quoted strings without
// quotes, comments kept as they are), domain literals in brackets, the
// same top-level blanks; inside an address token no blanks are added.
std::string internalize_822(const TokenList& tokens, unsigned flags = kTokStrNone);

}  // namespace pf::mail
