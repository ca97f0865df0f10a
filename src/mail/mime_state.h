// Splits a message, line by line, into headers and body lines the way the
// reference's MIME state machine does for header_checks, body_checks and
// postmap -h/-b/-m:
//  - a header starts with a name of printable ASCII characters (no ':'),
//    optional blanks, then ':'; the blanks before ':' are dropped; lines that
//    start with a blank continue it, joined with "\n", as long as the header
//    is shorter than header_size_limit (later lines are dropped);
//  - a header section ends at an empty line or at a line that is not a
//    header; the empty line, or that line, goes on as body; when the primary
//    headers end at a non-empty line, an empty body line comes first;
//  - with MIME processing on, Content-Type decides what follows: multipart
//    with a boundary parameter (every one of them counts) makes "--boundary"
//    body lines (a prefix match, innermost boundary first) start part
//    headers and "--boundary--" close the multipart; message/rfc822 (or
//    global) makes the body start with nested headers; parts of
//    multipart/digest default to message/rfc822, other parts to text.
// Without MIME processing everything after the primary headers is body.
//
// Trust: the message is outside input; memory is bounded by the header
// limit per header and by the number of boundaries the message declares.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

enum class HeaderClass { primary, multipart, nested };

class MimeState {
public:
    struct Callbacks {
        std::function<void(HeaderClass, std::string_view header)> header;  // may be empty
        std::function<void()> primary_header_end;                           // may be empty
        std::function<void(std::string_view line)> body;                    // may be empty
    };

    MimeState(bool mime, size_t header_limit, Callbacks callbacks);

    // One line of input without its newline.
    void line(std::string_view text);
    // The end of the input: flushes a pending header.
    void end();

private:
    enum class Section { primary_headers, part_headers, nested_headers, body };
    enum class Type { text, multipart, message_rfc822, other };
    struct Boundary {
        std::string text;
        Type part_default;
    };

    void flush_header();
    void content_type(std::string_view value);
    void end_of_headers(std::string_view text);
    void body_line(std::string_view text);
    HeaderClass header_class() const;

    bool mime_;
    size_t header_limit_;
    Callbacks cb_;
    Section section_ = Section::primary_headers;
    Type type_ = Type::text;
    std::string header_;
    std::vector<Boundary> boundaries_;  // innermost last
};

// Length of the header name at the start of text (up to optional blanks and
// ':'), or 0 when text is not a header line.
size_t header_name_length(std::string_view text);

}  // namespace pf::mail
