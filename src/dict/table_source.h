// The source-file format that postmap builds tables from and texthash reads
// directly, with the reference's rules:
//  - logical lines: a line starting with white space continues the previous
//    one (joined without the newline); empty, all-blank and '#' lines are
//    skipped without ending a logical line; continuation text with nothing
//    to continue draws "<path>: logical line must not start with whitespace:
//    "<first 30 bytes>..."" and is dropped. Warnings give the number of the
//    first physical line of a logical line. A NUL byte ends the text that
//    is parsed (C strings), although the UTF-8 check sees the whole line;
//  - with UTF-8 checks on (kUtf8Active), a line that is neither ASCII nor
//    valid UTF-8 is dropped: "<path>, line N: non-UTF-8 input "<line>" --
//    ignoring this line";
//  - the key ends at the first white space outside double quotes; a
//    backslash makes the next byte literal; quotes and backslashes stay in
//    the key ("k 4" with quotes is the key `"k 4"`); an unterminated quote
//    drops the line ("unbalanced '"' in '<line>' -- ignoring this line");
//  - the value is the rest without leading and trailing white space; an
//    empty key or value drops the line ("expected format: key whitespace
//    value", texthash adds " -- ignoring this line");
//  - a key ending in ':' warns "record is in "key: value" format; is this an
//    alias file?" and is kept;
//  - with -F (kSrcRhsIsFile) the value is a list of file names (white space
//    or commas), replaced by the base64 of their contents joined with "\n";
//    a file that cannot be read drops the line ("<path>, line N: open x: No
//    such file or directory: skipping this entry").
// Duplicate keys are the table's business (postmap) or the caller's
// (texthash); case folding too.
//
// Trust: the source file is admin-written but may hold any bytes; the files
// named with -F are read whole.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pf::dict {

struct SourceLine {
    std::string text;  // the logical line, NUL bytes kept
    int lineno;        // first physical line
};

// Logical lines of a source text.
class SourceLines {
public:
    SourceLines(std::string content, std::string path);
    std::optional<SourceLine> next();
    // The same without a copy: text stays valid until the next call.
    bool next_view(std::string_view& text, int& lineno);
    void rewind() { pos_ = 0; }

private:
    std::string content_;
    std::string path_;
    size_t pos_ = 0;
    int lineno_ = 0;
    std::string joined_;  // a logical line made of several physical ones
};

enum class SplitStatus { ok, unbalanced_quote, missing_part };
struct KeyValue {
    std::string key;
    std::string value;
};
// Splits the text of a logical line (already cut at its first NUL).
SplitStatus split_key_value(std::string_view line, KeyValue& out);
// The same as views into line.
SplitStatus split_key_value(std::string_view line, std::string_view& key, std::string_view& value);

// Reads the files named by a -F value: base64 of their contents joined with
// "\n", or the error text ("open x: <reason>", "read x: <reason>").
std::optional<std::string> files_to_base64(std::string_view names, std::string& error);

struct SourceOptions {
    bool utf8_check = false;
    bool rhs_is_file = false;
    bool texthash = false;  // texthash's wording of the format warning
};

struct SourceEntry {
    std::string key;
    std::string value;
    int lineno;
};
// An entry as views into the source (or the reader's own buffer): valid
// until the next call.
struct SourceEntryView {
    std::string_view key;
    std::string_view value;
    int lineno = 0;
};

// The usable entries of a source text, with the warnings above as lines are
// skipped. path names the source in warnings ("stdin" for standard input).
class TableSource {
public:
    TableSource(std::string content, std::string path, SourceOptions options);
    std::optional<SourceEntry> next();
    // The same without copies (postmap's bulk builds); false at the end.
    bool next_view(SourceEntryView& entry);
    // Back to the first line (a bulk build that must start over); the
    // warnings come again, as in the reference.
    void rewind() {
        lines_.rewind();
    }
    const std::string& path() const { return path_; }

private:
    SourceLines lines_;
    std::string path_;
    SourceOptions options_;
    std::string value_buf_;  // a -F value, base64-encoded
};

}  // namespace pf::dict
