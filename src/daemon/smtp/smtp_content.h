// The message content on its way out of the smtp/lmtp client, when the
// client must look inside it (the reference runs its MIME state machine
// only then):
//  - the 8-bit to 7-bit downgrade, for a server without 8BITMIME and a
//    message not declared 7BIT (unless disable_mime_output_conversion):
//    a MIME entity whose Content-Transfer-Encoding is 8bit or binary loses
//    that header; at the end of the entity's headers comes
//    "Content-Transfer-Encoding: quoted-printable" (a leaf) or "7bit"
//    (multipart, message/rfc822); its body lines are quoted-printable
//    (bytes outside 33..126 except TAB, and '=', as =XX; a soft break "="
//    once a line has more than 72 bytes; a blank at the end of a line as
//    =20/=09). Content without such a header counts as 7bit and passes as
//    it is, as in the reference (a non-MIME message keeps its 8-bit body);
//  - smtp_header_checks (primary headers), smtp_mime_header_checks (MIME
//    headers, wherever they are), smtp_nested_header_checks (headers of
//    attached messages) and smtp_body_checks (body lines, as they go out),
//    with the actions the reference's smtp client allows there: WARN,
//    INFO, REPLACE, PREPEND, STRIP, IGNORE, DUNNO/OK (each logged as
//    "<queue id>: <action>: header <text>: <optional text>"); the others
//    (REJECT, HOLD, FILTER, ...) only get "unsupported command" warnings;
//  - smtp_generic_maps on the addresses of the primary sender and
//    recipient headers (From, To, Cc, Reply-To, Sender, Resent-*, ...):
//    a rewritten header is written back one address per line, lines
//    joined again up to about 70 bytes, continuation lines with a TAB.
//
// Input is one logical line at a time (without its newline), output goes
// to a line sink; dot-stuffing, CRLF and long-line breaking are the
// caller's.
//
// Trust: the message is outside input (cleanup has bounded its headers);
// memory is bounded by the header being collected and the boundaries the
// message declares (at most kMaxBoundaries are kept).
#pragma once

#include "mail/maps.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::smtp_agent {

struct ContentOptions {
    bool downgrade = false;
    // smtp_generic_maps on one address (internal form); nullopt: unchanged.
    std::function<std::optional<std::string>(const std::string&)> generic;
    const mail::Maps* header_checks = nullptr;
    const mail::Maps* mime_header_checks = nullptr;
    const mail::Maps* nested_header_checks = nullptr;
    const mail::Maps* body_checks = nullptr;
    std::string queue_id;   // for the checks' log lines
};

class SmtpContent {
public:
    using Sink = std::function<void(std::string_view line)>;

    SmtpContent(ContentOptions options, Sink out) : opts_(std::move(options)), out_(std::move(out)) {}

    void line(std::string_view text);
    void end();
    // A check table failed: the delivery must not go on (the reference
    // gives up on the message for now).
    bool failed() const { return failed_; }

    static constexpr std::size_t kMaxBoundaries = 100;

private:
    enum class Section { primary, part, nested, body };
    enum class Ctype { text, message, multipart, other };
    enum class Stype { plain, rfc822, global, partial, external_body, other };
    struct Boundary {
        std::string text;
        Ctype def_ctype;
        Stype def_stype;
    };

    void flush_header();
    void end_of_headers(std::string_view text);
    void body_line(std::string_view text);
    void content_type(std::string_view value);
    void content_encoding(std::string_view value);
    void emit_header(const std::string& header);
    // Header and body checks; nullopt: the line is dropped.
    std::optional<std::string> check_header(const std::string& header);
    void body_out(std::string_view line);
    std::optional<std::string> apply_action(const mail::Maps& maps, const char* where, const std::string& value,
                                            const std::string& line, bool header);
    void emit_qp(std::string_view text);
    void set_state(Section s, Ctype c, Stype st) {
        section_ = s;
        ctype_ = c;
        stype_ = st;
        eight_bit_ = false;
    }

    ContentOptions opts_;
    Sink out_;
    Section section_ = Section::primary;
    Ctype ctype_ = Ctype::text;
    Stype stype_ = Stype::plain;
    bool eight_bit_ = false;  // the entity's encoding domain is 8bit/binary
    std::string header_;      // a header being collected ("\n" between lines)
    bool have_header_ = false;
    std::vector<Boundary> stack_;  // innermost last
    bool failed_ = false;
};

// Quoted-printable form of one body line, as the reference's downgrade
// writes it (one or more output lines).
std::vector<std::string> quoted_printable_line(std::string_view text);

}  // namespace pf::smtp_agent
