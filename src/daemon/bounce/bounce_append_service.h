// The bounce(8) daemon's "append" service, run under master as the bounce,
// defer and trace services (private/bounce, private/defer, private/trace):
// each request adds one recipient's outcome to the per-message log file
// <queue_directory>/<service name>/<hash>/<queue id>, in the reference's
// format so that its bounce, showq and mailq read our files and we read
// theirs. One record is:
//   "\n"                                    (record separator)
//   "<rcpt>: reason\n"                      (backwards_bounce_logfile_compatibility)
//   "recipient=<rcpt>\n"                    (external form; "<>" when empty)
//   "original_recipient=<orig>\n"           (when set and not the same but for case)
//   "offset=<n>\n"                          (when > 0)
//   "dsn_orig_rcpt=<orcpt>\n"               (when set)
//   "notify_flags=<n>\n"                    (when not 0)
//   "status=X.Y.Z\n" "action=A\n"           (when set)
//   "diag_type=T\n" "diag_text=D\n"         (both, when both set)
//   "mta_type=T\n" "mta_mname=M\n"          (both, when both set)
//   "reason=R\n"                            (when set)
//   "\n"
// The file (mode 0600) is locked exclusively while appending; a failed
// append truncates it back to its old size and is fatal, as in the
// reference: once the service says yes the agent forgets the recipient, so
// it must not say yes without the record on disk (fsync'ed).
//
// Trust: requests come from our own agents over private/ sockets; the
// queue ID is checked before it becomes a path.
#pragma once

#include "ipc/bounce_client.h"
#include "queue/queue_file.h"

#include <expected>
#include <string>
#include <string_view>

namespace pf::bounce {

std::string format_log_record(const ipc::BounceAppendRequest& request, bool old_format_line);

// Appends to <service>/<hash>/<id> relative to the current directory.
std::expected<void, std::string> append_log_record(const queue::QueueLayout& layout, std::string_view service,
                                                   const ipc::BounceAppendRequest& request, bool old_format_line);

}  // namespace pf::bounce
