// SMTP reply formatting and parsing (see smtp_reply.h).
// Trust: parse_reply_line reads peer bytes and bounds every access.
#include "smtp/smtp_reply.h"

#include <fmt/core.h>

namespace pf::smtp {

std::string format_reply(int code, const std::vector<std::string>& lines) {
    std::string out;
    if (lines.empty()) return fmt::format("{}\r\n", code);
    for (std::size_t i = 0; i < lines.size(); ++i)
        out += fmt::format("{}{}{}\r\n", code, i + 1 < lines.size() ? '-' : ' ', lines[i]);
    return out;
}

std::string format_reply(int code, std::string_view text) { return fmt::format("{} {}\r\n", code, text); }

std::string format_reply(int code, std::string_view dsn, std::string_view text) {
    if (dsn.empty()) return format_reply(code, text);
    return fmt::format("{} {} {}\r\n", code, dsn, text);
}

std::size_t enhanced_status_length(std::string_view text) {
    if (text.size() < 5) return 0;
    if (text[0] != '2' && text[0] != '4' && text[0] != '5') return 0;
    if (text[1] != '.') return 0;
    std::size_t i = 2;
    auto digits = [&](std::size_t max) {
        std::size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < max) ++i;
        return i - start;
    };
    if (digits(3) == 0) return 0;
    if (i >= text.size() || text[i] != '.') return 0;
    ++i;
    if (digits(3) == 0) return 0;
    if (i < text.size() && text[i] != ' ') return 0;
    return i;
}

std::optional<ReplyLine> parse_reply_line(std::string_view line) {
    if (line.size() < 3) return std::nullopt;
    for (int i = 0; i < 3; ++i)
        if (line[i] < '0' || line[i] > '9') return std::nullopt;
    ReplyLine r;
    r.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (line.size() == 3) return r;
    if (line[3] != ' ' && line[3] != '-') return std::nullopt;
    r.last = line[3] == ' ';
    r.text = line.substr(4);
    return r;
}

}  // namespace pf::smtp
