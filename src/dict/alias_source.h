// The aliases(5) source format that postalias builds alias databases from,
// with the reference's rules (Postfix 3.7.11, observed):
//  - logical lines as in table_source.h (continuation lines start with white
//    space, '#' lines and blank lines are skipped); the text is cut at its
//    first NUL; with UTF-8 checks on, a line that is neither ASCII nor valid
//    UTF-8 is dropped ("<path>, line N: non-UTF-8 input "<line>" -- ignoring
//    this line");
//  - each line is split into RFC 822 tokens: atoms, "quoted strings",
//    [domain literals], (comments, nested), and the one-character operators
//    | % ! ( ) < > @ , ; : \ " . [ ]; a backslash makes the next byte part of
//    the token; space, tab, CR and LF separate tokens; a line without tokens
//    is skipped silently;
//  - the first ':' operator separates the name from the value; no ':', no
//    token before or after it, or a ',' before it: "<path>, line N: need
//    name:value pair"; an '@' or '%' before it: "<path>, line N: name must be
//    local"; both drop the line;
//  - the name is the tokens in unquoted (internal) form ("a b" -> a b), the
//    value the tokens re-quoted (external form), so white space in values is
//    normalised: one space between words, ", " after each comma, none around
//    other operators.
// Case folding and duplicates are the table's business.
//
// Trust: the source file is admin-written but may hold any bytes.
#pragma once

#include "dict/table_source.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::dict {

// One RFC 822 token of an alias line.
struct AliasToken {
    enum class Type { op, atom, qstring, domlit, comment };
    Type type;
    char op = 0;       // the operator, for Type::op
    std::string text;  // contents (comments keep their parentheses)
};

// Tokens of a (NUL-free) line.
std::vector<AliasToken> alias_tokenize(std::string_view line);
// Unquoted and quoted string forms of a token run.
std::string alias_internal_form(const std::vector<AliasToken>& tokens, size_t begin, size_t end);
std::string alias_external_form(const std::vector<AliasToken>& tokens, size_t begin, size_t end);

enum class AliasSplit { ok, empty, need_pair, not_local };
// Splits one logical line (already cut at its first NUL) into name and value.
AliasSplit split_alias_line(std::string_view line, KeyValue& out);

// The usable entries of an aliases source text, with the warnings above as
// lines are skipped.
class AliasSource {
public:
    AliasSource(std::string content, std::string path, bool utf8_check);
    std::optional<SourceEntry> next();
    void rewind() { lines_.rewind(); }

private:
    SourceLines lines_;
    std::string path_;
    bool utf8_check_;
};

}  // namespace pf::dict
