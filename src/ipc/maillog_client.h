// Where a program's diagnostics go once it logs: syslog(3) with the ident
// "<syslog_name>/<program>", LOG_PID and facility syslog_facility; or, when
// maillog_file is set, one datagram per line to the postlogd service
// (public/<postlog_service_name> under queue_directory), which appends it to
// that file. The line format is the reference's, as observed:
//     "Nov 28 03:29:34 host postfix/master[28130]: text"
// (month, zero-padded day, local time, the first label of myhostname).
//
// When postlogd cannot be reached, a program that may (root, or postlog(1))
// appends the line to maillog_file itself, as the reference's commands do
// before master runs.
//
// Trust: the text is ours (already made printable by util/msg); the
// configuration is admin-written.
#pragma once

#include "config/config.h"

#include <ctime>
#include <string>
#include <string_view>

namespace pf::ipc {

enum MaillogFlags : unsigned {
    kMaillogNone = 0,
    // Write maillog_file directly when postlogd does not answer.
    kMaillogDirectFallback = 1u << 0,
};

// Installs the msg sink (util/msg.h) for ident; may be called again (after
// -o overrides, or with a new ident). A maillog_file that starts with none
// of maillog_file_prefixes is fatal ("maillog_file value '<file>' does not
// match any prefix in maillog_file_prefixes"), reported through the sink
// installed before, as in every reference program that logs (master,
// daemons, postfix, sendmail, postqueue, ...): no process ever sends to a
// postlogd that would refuse to start.
void maillog_client_init(const config::Config& config, std::string_view ident, unsigned flags = kMaillogNone);
// After chroot(queue_directory): reach postlogd by the path inside the jail.
void maillog_client_chrooted();
// Whether file starts with one of prefixes (separated by commas and
// white space), as maillog_file must.
bool maillog_file_allowed(std::string_view file, std::string_view prefixes);
// True when logging goes to maillog_file (through postlogd) and not syslog.
bool maillog_client_uses_file();
// Stops writing the file directly when postlogd does not answer (master's
// last words: the reference sends them to a postlogd that is going away,
// and they are lost).
void maillog_client_no_direct_fallback();

// Sends one already-formatted line (no trailing newline) as the client
// would; used by postlog(1) for its lines with a different ident.
void maillog_client_send(int syslog_priority, std::string_view ident, std::string_view text);

// The reference's maillog line for a message (no trailing newline).
std::string maillog_format_line(std::time_t when, std::string_view hostname, std::string_view ident, long pid,
                                std::string_view text);
// The ident a program logs under: "<syslog_name>/<program>", or just
// syslog_name when the program has that name ("postfix[pid]: ...").
std::string mail_task(const config::Config& config, std::string_view program);

// syslog_facility name → LOG_* value; -1 when unknown.
int syslog_facility_code(std::string_view name);

}  // namespace pf::ipc
