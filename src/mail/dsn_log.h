// Reading the per-message delivery status logs (queue_directory/bounce,
// defer and trace, one file per message) that the bounce daemon's append
// service writes, as the reference's bounce daemon reads them to compose a
// notice. An entry is a run of non-empty lines ended by an empty line;
// lines are "name=value" (recipient, original_recipient, dsn_orig_rcpt,
// notify_flags, offset, status, action, diag_type, diag_text, mta_type,
// mta_mname, reason) or the old form "<recipient>: reason". Every line is
// made printable first ('?' for bytes that are neither printable ASCII nor
// UTF-8 shaped). Missing values get the reference's stand-ins: address
// "(recipient address unavailable)", reason "(description unavailable)",
// status/action 4.0.0/delayed in a defer log and 5.0.0/failed otherwise;
// an empty address or original address reads as "(MAILER-DAEMON)". A last
// entry without its closing empty line is not returned, as in the
// reference. Unknown names and malformed lines give the reference's
// warnings and are skipped.
//
// Trust: the file is ours, but its text came from remote servers and
// commands; parsing is total over any bytes.
#pragma once

#include "mail/bounce_template.h"

#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

// DSN NOTIFY bits (the reference's values, as in queue files).
enum DsnNotify : int {
    kDsnNotifyNever = 1,
    kDsnNotifySuccess = 2,
    kDsnNotifyFailure = 4,
    kDsnNotifyDelay = 8,
    kDsnNotifyAny = kDsnNotifySuccess | kDsnNotifyFailure | kDsnNotifyDelay,
    kDsnNotifyOverride = kDsnNotifyAny | kDsnNotifyNever,
};

// DSN RET values.
enum DsnRet : int { kDsnRetFull = 1, kDsnRetHdrs = 2 };

struct DsnLogEntry {
    std::string address;
    std::string orig_addr;
    std::string dsn_orcpt;
    int dsn_notify = 0;
    long offset = 0;
    std::string status;
    std::string action;
    std::string reason;
    std::string dtype;
    std::string dtext;
    std::string mtype;
    std::string mname;
};

// Parses a log file's bytes. path names the file in warnings (the
// reference shows the queue-relative path, e.g. "bounce/A/AB12").
// defer_log selects the defer stand-ins for status and action.
std::vector<DsnLogEntry> parse_dsn_log(std::string_view content, bool defer_log, std::string_view path,
                                       bool utf8 = true, const WarningSink& warn = {});

// Whether an entry passes a notify filter (entries without NOTIFY
// information always do).
inline bool dsn_notify_selected(const DsnLogEntry& entry, int filter) {
    return entry.dsn_notify == 0 || (entry.dsn_notify & filter) != 0;
}

}  // namespace pf::mail
