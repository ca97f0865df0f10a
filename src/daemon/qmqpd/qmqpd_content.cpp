// qmqpd(8)'s VERP sender convention, Received: header and content records
// (qmqpd_content.h).
//
// Trust: all input is the client's; nothing here can fail.
#include "daemon/qmqpd/qmqpd_content.h"

#include "mail/address_quote.h"
#include "mail/mail_date.h"

#include <fmt/format.h>

namespace pf::qmqpd {

VerpSender parse_verp_sender(std::string_view sender, std::string_view verp_filter) {
    VerpSender out;
    out.sender = std::string(sender);
    // "<prefix><d>@<origin>-@[]": the prefix and the origin both non-empty.
    constexpr std::string_view kSuffix = "-@[]";
    if (sender.size() <= kSuffix.size()) return out;
    std::size_t end_origin = sender.size() - kSuffix.size();
    if (sender.substr(end_origin) != kSuffix) return out;
    // The reference looks for the first '@' as a C string: a NUL ends it.
    std::string_view as_c = sender.substr(0, sender.find('\0'));
    std::size_t at = as_c.find('@');
    if (at == std::string_view::npos || at == 0) return out;
    std::size_t end_prefix = at - 1;
    if (!(end_prefix + 2 < end_origin) || end_prefix == 0) return out;
    out.requested = true;
    out.delims = std::string(1, sender[end_prefix]) + "=";
    bool ok = out.delims[0] != '\0' && verp_filter.find(out.delims[0]) != std::string_view::npos &&
              verp_filter.find('=') != std::string_view::npos;
    if (!ok)
        out.error = fmt::format("Invalid VERP delimiters: \"{}\". Need two characters from \"{}\"",
                                std::string_view(out.delims).substr(0, out.delims.find('\0')), verp_filter);
    // Drop the delimiter before '@' and the "-@[]" suffix.
    out.sender = std::string(sender.substr(0, end_prefix)) +
                 std::string(sender.substr(end_prefix + 1, end_origin - end_prefix - 1));
    return out;
}

std::vector<std::string> received_header(const ReceivedInfo& info, std::size_t rcpt_count,
                                         std::string_view first_recipient) {
    std::vector<std::string> lines;
    lines.push_back(fmt::format("Received: from {} ({} [{}])", info.client_name, info.client_name,
                                info.client_rfc_addr));
    std::string date = mail::mail_date(info.arrival);
    if (rcpt_count == 1) {
        lines.push_back(fmt::format("\tby {} ({}) with {} id {}", info.myhostname, info.mail_name, info.protocol,
                                    info.queue_id));
        std::string quoted = mail::quote_822_local(first_recipient);
        quoted.resize(std::string_view(quoted).find('\0') == std::string_view::npos ? quoted.size()
                                                                                     : quoted.find('\0'));
        lines.push_back(fmt::format("\tfor <{}>; {}", quoted, date));
    } else {
        lines.push_back(fmt::format("\tby {} ({}) with {}", info.myhostname, info.mail_name, info.protocol));
        lines.push_back(fmt::format("\tid {}; {}", info.queue_id, date));
    }
    return lines;
}

std::vector<std::pair<char, std::string>> content_records(std::string_view message, std::size_t line_limit) {
    std::vector<std::pair<char, std::string>> out;
    if (line_limit == 0) line_limit = 1;
    bool first = true;
    std::size_t next = 0;
    while (next < message.size()) {
        std::size_t start = next;
        std::size_t enough = start + line_limit;
        std::size_t cp = start;
        char type;
        std::size_t len;
        for (;; ++cp) {
            if (cp >= message.size()) {
                len = cp - start;
                next = cp;
                type = 'L';
                break;
            }
            if (message[cp] == '\n') {
                len = cp - start;
                next = cp + 1;
                type = 'N';
                break;
            }
            if (cp >= enough) {
                len = cp - start;
                next = cp;
                type = 'L';
                break;
            }
        }
        std::string_view line = message.substr(start, len);
        if (first) {
            // The reference compares the text after the '>'s with "From "
            // beyond the line's end too (in its buffer): the next bytes
            // of the message, the newline included.
            std::size_t gt = start;
            while (gt < message.size() && message[gt] == '>') ++gt;
            if (message.substr(gt, 5) == "From ") {
                out.emplace_back(type, "X-Mailbox-Line: " + std::string(line));
                continue;
            }
            first = false;
            if (len > 0 && (line[0] == ' ' || line[0] == '\t')) out.emplace_back('N', std::string());
        }
        out.emplace_back(type, std::string(line));
    }
    return out;
}

}  // namespace pf::qmqpd
