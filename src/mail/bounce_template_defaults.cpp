// The reference's four built-in bounce templates, as "postconf -t" shows
// them without a template file: observed output, reproduced byte for byte.
// Each is kept in template-file form (headers, blank line, body) and parsed
// like a template from a file.
#include "mail/bounce_template_defaults.h"

namespace pf::mail {
namespace {

constexpr std::string_view kFailure =
    "Charset: us-ascii\n"
    "From: Mail Delivery System <MAILER-DAEMON>\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Postmaster-Subject: Postmaster Copy: Undelivered Mail\n"
    "\n"
    "This is the mail system at host $myhostname.\n"
    "\n"
    "I'm sorry to have to inform you that your message could not\n"
    "be delivered to one or more recipients. It's attached below.\n"
    "\n"
    "For further assistance, please send mail to postmaster.\n"
    "\n"
    "If you do so, please include this problem report. You can\n"
    "delete your own text from the attached returned message.\n"
    "\n"
    "                   The mail system\n";

constexpr std::string_view kDelay =
    "Charset: us-ascii\n"
    "From: Mail Delivery System <MAILER-DAEMON>\n"
    "Subject: Delayed Mail (still being retried)\n"
    "Postmaster-Subject: Postmaster Warning: Delayed Mail\n"
    "\n"
    "This is the mail system at host $myhostname.\n"
    "\n"
    "####################################################################\n"
    "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
    "####################################################################\n"
    "\n"
    "Your message could not be delivered for more than $delay_warning_time_hours hour(s).\n"
    "It will be retried until it is $maximal_queue_lifetime_days day(s) old.\n"
    "\n"
    "For further assistance, please send mail to postmaster.\n"
    "\n"
    "If you do so, please include this problem report. You can\n"
    "delete your own text from the attached returned message.\n"
    "\n"
    "                   The mail system\n";

constexpr std::string_view kSuccess =
    "Charset: us-ascii\n"
    "From: Mail Delivery System <MAILER-DAEMON>\n"
    "Subject: Successful Mail Delivery Report\n"
    "\n"
    "This is the mail system at host $myhostname.\n"
    "\n"
    "Your message was successfully delivered to the destination(s)\n"
    "listed below. If the message was delivered to mailbox you will\n"
    "receive no further notifications. Otherwise you may still receive\n"
    "notifications of mail delivery errors from other systems.\n"
    "\n"
    "                   The mail system\n";

constexpr std::string_view kVerify =
    "Charset: us-ascii\n"
    "From: Mail Delivery System <MAILER-DAEMON>\n"
    "Subject: Mail Delivery Status Report\n"
    "\n"
    "This is the mail system at host $myhostname.\n"
    "\n"
    "Enclosed is the mail delivery report that you requested.\n"
    "\n"
    "                   The mail system\n";

}  // namespace

std::vector<std::string> builtin_template_lines(BounceKind kind) {
    std::string_view text;
    switch (kind) {
    case BounceKind::failure: text = kFailure; break;
    case BounceKind::delay: text = kDelay; break;
    case BounceKind::success: text = kSuccess; break;
    case BounceKind::verify: text = kVerify; break;
    }
    std::vector<std::string> lines;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        lines.emplace_back(text.substr(0, nl));
        text.remove_prefix(nl + 1);
    }
    return lines;
}

}  // namespace pf::mail
