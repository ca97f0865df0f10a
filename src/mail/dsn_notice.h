// Composition of a delivery status notification (RFC 3464
// multipart/report) as the reference's bounce daemon writes it: the
// message headers (From/Subject from the template, To, Auto-Submitted,
// MIME-Version, Content-Type multipart/report with the boundary
// "<queue id>.<time>/<myhostname>", Content-Transfer-Encoding), the
// "Notification" part (template text and one wrapped "<rcpt>: reason"
// paragraph per reported recipient), the "Delivery report" part
// (message/delivery-status: Reporting-MTA, Original-Envelope-Id,
// X-<mail_name>-Queue-ID, X-<mail_name>-Sender, Arrival-Date, and per
// recipient Final-Recipient, Original-Recipient, Action, Status,
// Remote-MTA, Diagnostic-Code, Will-Retry-Until), and the returned message
// part ("Undelivered Message" / "... Headers", full or headers only per
// DSN RET and bounce_size_limit) ending with the closing boundary. Long
// text lines wrap at 79 columns with a 4-blank indent, as the reference's
// line_wrap() does.
//
// The composer writes content records (N for a line; the returned message
// keeps its own N/L records, so long lines pass through unchanged) to a
// sink; the envelope and the cleanup conversation are the caller's
// (daemon/bounce).
//
// Trust: log entries and the returned message are outside text already
// made printable (log) or copied as records (message); nothing here
// interprets them beyond the header test of headers-only returns.
#pragma once

#include "mail/bounce_template.h"
#include "mail/dsn_log.h"

#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

// SMTPUTF8 bits of a message's sendopts (the reference's values).
enum SmtpUtf8Flags : int {
    kSmtpUtf8Requested = 1 << 0,
    kSmtpUtf8Header = 1 << 1,
    kSmtpUtf8Sender = 1 << 2,
    kSmtpUtf8Recipient = 1 << 3,
    kSmtpUtf8All = kSmtpUtf8Requested | kSmtpUtf8Header | kSmtpUtf8Sender | kSmtpUtf8Recipient,
};

// The settings a notice depends on.
struct NoticeSettings {
    std::string myhostname;
    std::string mail_name = "Postfix";   // as configured; made an RFC 822 atom here
    long bounce_size_limit = 50000;
    long max_queue_time = 5 * 86400;     // seconds, for Will-Retry-Until
    bool smtputf8_enable = true;
    bool standard_from = true;           // header_from_format = standard
};

// What the daemon learned from the queue file and the request.
struct NoticeMessage {
    std::string queue_id;
    std::string encoding;        // "7bit", "8bit" or "" (the queue file's / request's)
    int sendopts = 0;            // SmtpUtf8Flags
    std::string dsn_envid;
    std::string sender;          // external form; "" when the queue file is gone
    std::time_t arrival_time = 0;
    long message_size = 0;
    bool have_original = false;  // the queue file was opened
    long data_offset = 0;        // offset of the first content record (0: unknown)
    std::string orig_msgid;      // "<id>" for threaded notices ("" when none)
    std::time_t now = 0;         // the boundary's time
};

// Receives one content record.
using RecordSink = std::function<void(char type, std::string_view data)>;
// Yields the returned message's records from its first content record on;
// false at the end (or on error).
using RecordSource = std::function<bool(char& type, std::string& data)>;

class NoticeComposer {
public:
    // tmpl: the kind of notice (failure, delay, success, verify);
    // body: its expanded text.
    NoticeComposer(const NoticeSettings& settings, const NoticeMessage& message, const BounceTemplate& tmpl,
                   std::vector<std::string> body, RecordSink sink, const WarningSink& warn = {});

    const std::string& boundary() const { return boundary_; }
    // The MIME encoding of the notice: "8bit", "7bit" or "" (none).
    const std::string& mime_encoding() const { return mime_encoding_; }

    // The message header and the start of the Notification part.
    void header(std::string_view recipient, bool postmaster_copy);
    // The template text.
    void boilerplate();
    // "<rcpt> (expanded from <orig>): reason", wrapped, after a blank line.
    void recipient_log(const DsnLogEntry& entry);
    // recipient_log() for each selected entry; entries nullopt means the
    // log is unavailable. Returns the number reported.
    int diagnostic_log(const std::optional<std::vector<DsnLogEntry>>& entries, int notify_filter);
    // The start of the delivery-status part and the per-message fields.
    void header_dsn();
    // The per-recipient fields of one entry.
    void recipient_dsn(const DsnLogEntry& entry);
    int diagnostic_dsn(const std::optional<std::vector<DsnLogEntry>>& entries, int notify_filter);
    // The returned-message part and the closing boundary; ret is a DsnRet.
    void original(int ret, const RecordSource& source);

private:
    void put(std::string_view line) { sink_('N', line); }
    void put_wrapped(std::string_view text);
    bool failure() const { return tmpl_.kind() == BounceKind::failure; }
    bool delay() const { return tmpl_.kind() == BounceKind::delay; }
    bool not_7bit_mime() const;

    const NoticeSettings& settings_;
    const NoticeMessage& message_;
    const BounceTemplate& tmpl_;
    std::vector<std::string> body_;
    RecordSink sink_;
    std::string mail_name_;
    std::string boundary_;
    std::string mime_encoding_;
    std::string template_encoding_;
};

// The reference's line_wrap(): words of text on lines of at most width
// columns, continuation lines indented by indent blanks; trailing blanks
// trimmed. A word longer than a line is not broken.
std::vector<std::string> wrap_line(std::string_view text, int width, int indent);

// The mail_name made an RFC 822 atom (blanks and specials become '-').
std::string mail_name_atom(std::string_view mail_name);

}  // namespace pf::mail
