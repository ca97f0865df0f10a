// The parts of qmqpd(8)'s cleanup stream that are computed from the
// client's request alone, as the reference's qmqpd builds them:
//  - the VERP convention of QMQP senders: "prefix-@origin-@[]" asks for
//    variable envelope return paths; the sender becomes "prefix@origin"
//    and the delimiters are the character before the first '@' and '=';
//  - the Received: header qmqpd puts first (the recipient named only when
//    there is exactly one, so that Bcc: recipients stay hidden);
//  - the message content cut into queue-file records: lines at '\n', a
//    line longer than line_length_limit continued in 'L' records, an
//    unterminated last line as an 'L' record, leading "From " lines
//    (after any number of '>') turned into X-Mailbox-Line: headers, and an
//    empty record before content that starts with a blank or tab (so it
//    is not read as part of the Received: header).
//
// Trust: the sender, recipients and content are the network client's
// (any bytes, including NUL); the functions are total.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pf::qmqpd {

struct VerpSender {
    std::string sender;   // the envelope sender to queue
    bool requested = false;
    std::string delims;   // two characters when requested
    std::string error;    // non-empty: invalid delimiters (reply text)
};

// Applies the "-@[]" convention to a sender read from the client;
// verp_filter is verp_delimiter_filter.
VerpSender parse_verp_sender(std::string_view sender, std::string_view verp_filter);

struct ReceivedInfo {
    std::string client_name;
    std::string client_rfc_addr;   // "IPv6:..." for IPv6 clients
    std::string myhostname;
    std::string mail_name;
    std::string protocol = "QMQP";
    std::string queue_id;
    std::time_t arrival = 0;
};

// The header's lines (each one 'N' record), rcpt_count and the first
// recipient as read.
std::vector<std::string> received_header(const ReceivedInfo& info, std::size_t rcpt_count,
                                         std::string_view first_recipient);

// The content as (record type, data) pairs: 'N' for a line that ended
// with '\n' (without it), 'L' for a piece continued in the next record.
std::vector<std::pair<char, std::string>> content_records(std::string_view message, std::size_t line_limit);

}  // namespace pf::qmqpd
