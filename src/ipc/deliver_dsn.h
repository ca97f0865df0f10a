// A delivery status as the delivery agents report it (the reference's DSN
// record): an RFC 3463 enhanced status code, the DSN action, the reason
// text that goes into the log and into notices, an optional diagnostic
// (type "x-unix" for command output, "smtp" for a server reply) and an
// optional remote MTA ("dns" + host name). Also the reference's checks and
// splitting of status codes in free text ("5.7.1 go away").
//
// Trust: status codes often come from outside (a command's output, a
// remote server, the nexthop text of an error: transport); dsn_valid and
// dsn_split accept any bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pf::ipc {

struct Dsn {
    std::string status;   // "2.0.0", "4.3.0", "5.1.1"...
    std::string action;   // "delivered", "relayed", "delayed", "failed", ... ("" : default)
    std::string reason;   // human-readable text for logs and notices
    std::string dtype;    // diagnostic type ("" when none)
    std::string dtext;    // diagnostic text
    std::string mtype;    // remote MTA type ("" when none)
    std::string mname;    // remote MTA name

    static Dsn simple(std::string status, std::string reason) {
        Dsn d;
        d.status = std::move(status);
        d.reason = std::move(reason);
        return d;
    }
};

// Length of the valid "D.DDD.DDD" status code at the start of text (the
// first digit 2, 4 or 5; the others 1-3 digits; followed by the end or a
// blank), 0 when there is none.
std::size_t dsn_valid(std::string_view text);

// Splits "X.Y.Z text" into the code and the text after it (leading blanks
// skipped on both sides); without a valid code in text, the code is
// default_status and the text is all of it (less leading blanks).
struct DsnSplit {
    std::string status;
    std::string_view text;
};
DsnSplit dsn_split(std::string_view default_status, std::string_view text);

}  // namespace pf::ipc
