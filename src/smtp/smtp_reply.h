// SMTP reply lines as the reference's server writes them: "NNN text" for a
// single line, "NNN-text" for every line but the last of a multi-line
// reply, CRLF after each; enhanced status codes (RFC 3463) "X.Y.Z" placed
// after the code; and the split of a reply text given with embedded line
// breaks into reply lines. Also the reverse (a client's parse of a reply
// line), for the SMTP client later.
//
// Trust: format_* take our own texts; parse_reply_line takes peer input
// and checks it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::smtp {

// "code text\r\n", or "code-line1\r\n...code lastline\r\n" for several.
std::string format_reply(int code, const std::vector<std::string>& lines);
// One line: "code text\r\n".
std::string format_reply(int code, std::string_view text);
// "code dsn text" on one line ("code text" when dsn is empty).
std::string format_reply(int code, std::string_view dsn, std::string_view text);

// Whether text starts with an enhanced status code "D.DDD.DDD" (class 2, 4
// or 5) followed by a space or the end; returns its length.
std::size_t enhanced_status_length(std::string_view text);

struct ReplyLine {
    int code = 0;
    bool last = true;       // "NNN " (or "NNN" alone) rather than "NNN-"
    std::string_view text;  // after the separator
};
// Parses one reply line (without CRLF); nullopt when it does not start with
// three digits followed by ' ', '-' or the end.
std::optional<ReplyLine> parse_reply_line(std::string_view line);

}  // namespace pf::smtp
