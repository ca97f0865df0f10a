// Logging of the submission commands, sendmail(1) and postdrop(1), as the
// reference's: once main.cf is read, every diagnostic also goes to the mail
// log (syslog, or postlogd and maillog_file) under "<syslog_name>/<program>",
// besides standard error; root may append to maillog_file itself when
// postlogd is not running. A program that needs its own reaction to
// diagnostics (removing an unfinished file on a fatal error) passes it as
// `then`, called after the line is logged.
//
// Trust: the texts are ours; the configuration is the admin's.
#pragma once

#include "config/config.h"
#include "ipc/maillog_client.h"
#include "util/msg.h"

#include <syslog.h>
#include <unistd.h>

#include <string>
#include <string_view>

namespace pf::ipc {

inline void submit_log_init(const config::Config& cfg, std::string_view program, util::MsgSink then) {
    std::string ident = mail_task(cfg, program);
    maillog_client_init(cfg, ident, ::geteuid() == 0 ? kMaillogDirectFallback : kMaillogNone);
    util::msg_set_sink([ident, then = std::move(then)](util::MsgLevel level, std::string_view text) {
        int priority = LOG_INFO;
        std::string line;
        switch (level) {
        case util::MsgLevel::info: break;
        case util::MsgLevel::warning: priority = LOG_WARNING, line = "warning: "; break;
        case util::MsgLevel::error: priority = LOG_ERR, line = "error: "; break;
        case util::MsgLevel::fatal: priority = LOG_CRIT, line = "fatal: "; break;
        case util::MsgLevel::panic: priority = LOG_CRIT, line = "panic: "; break;
        }
        line += text;
        ipc::maillog_client_send(priority, ident, line);
        if (then) then(level, text);
    });
}

}  // namespace pf::ipc
