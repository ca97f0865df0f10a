// The bounce daemon's notice requests (ipc/bounce_client.h), as the
// reference's bounce(8) serves them:
//  - flush: a non-delivery notice to the sender from the service's log
//    (bounce/<id>, or defer/<id> for mail too old to retry), recipients
//    filtered by DSN NOTIFY=FAILURE, the message returned per DSN RET;
//    a postmaster copy (bounce_notice_recipient, headers only) when
//    notify_classes has "bounce"; a bounce of a bounce (sender <>) goes
//    to 2bounce_notice_recipient in full when notify_classes has
//    "bounce" or "2bounce"; a notice about a double-bounce message is
//    discarded with a warning. The log is removed once done.
//  - warn: the same from the defer log with the delay template
//    (NOTIFY=DELAY, headers only; postmaster copy to
//    delay_notice_recipient with "delay"); the log stays.
//  - trace: the success or verify report from the trace log (sendmail -v,
//    sendmail -bv), headers only; the log is removed.
//  - verp: one notice per recipient, each to the sender with the
//    recipient encoded per the VERP delimiters.
//  - one: a notice about one recipient given in the request.
// Each posted notice is logged "<id>: sender non-delivery notification:
// <new id>" (or postmaster, delay, delivery status) as in the reference.
// The result is 0 when done (including "nothing to send") and non-zero
// when the request must be tried again.
//
// Trust: the request comes from our qmgr or cleanup; queue names and IDs
// are checked before they become paths; log and queue files are ours, and
// their text is treated as outside input (dsn_log.h, dsn_notice.h).
#pragma once

#include "config/config.h"
#include "ipc/bounce_client.h"
#include "mail/bounce_template.h"
#include "mail/dsn_notice.h"
#include "queue/queue_file.h"

#include <string>
#include <string_view>

namespace pf::bounce {

struct NoticeContext {
    const config::Config& config;
    queue::QueueLayout layout;             // relative to the queue directory
    const mail::BounceTemplates& templates;
    mail::NoticeSettings settings;
    bool threaded = false;                 // enable_threaded_bounces
    std::string double_bounce;             // double_bounce_sender@myhostname
    std::string mail_daemon;               // MAILER-DAEMON@myhostname
};

// Reads the settings a notice needs from the configuration.
NoticeContext make_notice_context(const config::Config& config, const mail::BounceTemplates& templates);

// Serves one notice request for service (bounce, defer, trace or the
// names master.cf gives them); the status to return to the client.
int notice_service(const NoticeContext& ctx, std::string_view service, const ipc::BounceNoticeRequest& request);

// notify_classes as a mask (mail/dsn_notify.h); fatal on an unknown name,
// as in the reference (each request reads it).
int notify_mask(std::string_view value);

}  // namespace pf::bounce
