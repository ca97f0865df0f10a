// The before-queue content filter of smtpd (smtpd_proxy_filter): instead
// of a cleanup stream, a mail transaction goes to an SMTP server (the
// filter), command by command, and the filter's replies decide. This
// reproduces the reference's pass-through proxy: the connection is opened
// when the transaction's stream would be opened (MAIL with
// smtpd_delay_open_until_valid_rcpt = no, else the first accepted RCPT);
// it reads the greeting, sends "EHLO $smtpd_proxy_ehlo", XFORWARD when the
// filter announces it, then the client's MAIL FROM line as received;
// RCPT and DATA lines follow as received; the content goes as SMTP lines
// (dot-stuffed as the client sent them); "." ends it and the filter's
// reply is the client's reply, logged as "proxy-accept"/"proxy-reject".
// A filter that cannot be reached, breaks the protocol, or answers a
// command with an unexpected 2xx/3xx reply is replaced by the reply
// "451 4.3.0 Error: queue file write error". The connection is closed
// without QUIT when the transaction ends. With smtpd_proxy_options =
// speed_adjust the whole transaction is kept until the client sent ".",
// and only then played to the filter.
//
// Trust: the filter's replies are network bytes: lines are bounded by
// line_length_limit, non-printable bytes shown as '?', and the stored
// multi-line reply is bounded too.
#pragma once

#include "daemon/smtpd/smtpd_session.h"

#include <memory>
#include <string>
#include <string_view>

namespace pf::smtpd {

class Proxy;

// Whether this smtpd hands its mail to a before-queue filter.
bool proxy_enabled(const Server& server);

// Opens the filter connection for the transaction (or, with speed_adjust,
// starts recording it). On failure the client got the reply (counted as
// an error) and s.proxy is empty.
bool proxy_open(Server& server, Session& s);

// RCPT TO once smtpd's own checks accepted it: forwards the client's
// line and replies. The caller has done everything up to the stream.
Outcome proxy_rcpt(Server& server, Session& s, const std::string& recipient);

// DATA (bdat = false) or the first BDAT chunk: sends "DATA" and expects
// 354. On failure returns the reply for the client (empty: fine).
std::string proxy_data(Server& server, Session& s, std::string_view command);

// One content line (cont: no line end follows). stuff_dot: prefix a "."
// (BDAT content, which the client did not dot-stuff). False when the
// filter stream failed (the caller stops sending).
bool proxy_put(Session& s, std::string_view text, bool cont, bool stuff_dot = false);

// The end of the content: sends "." and reads the filter's verdict.
// Returns the reply for the client; ok tells whether it is 2xx.
std::string proxy_finish(Server& server, Session& s, bool& ok);

// The reply the proxy has for the client right now (after a failure).
std::string proxy_reply(const Session& s);

// Closes the filter connection without QUIT (the transaction ends).
void proxy_close(Session& s);

// The reference's fake reply for a filter it could not talk to.
inline constexpr std::string_view kProxyFakeReply = "451 4.3.0 Error: queue file write error";

// A multi-line reply as stored ("250-a\r\n250 b") made ready for one
// write: every line but the last marked as a continuation.
std::string proxy_format_reply(std::string_view stored);

}  // namespace pf::smtpd
