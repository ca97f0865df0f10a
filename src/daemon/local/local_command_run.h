// Running one local(8) command delivery, as the reference's pipe_command
// does it for local: a command with shell metacharacters (or any command
// when local_command_shell is set) runs as <shell> -c <command>
// (/bin/sh without local_command_shell), a plain one is split at blanks
// and executed directly; the child becomes the delivery user for good
// (gid, groups = that gid, uid), gets a new session, the message on stdin
// and one pipe for stdout+stderr, the export_environment variables, then
// PATH=/usr/bin:/bin, then the delivery variables (HOME, LOGNAME, ...),
// and the working directory when one is configured. Every step waits at
// most the time limit; after a time-out the process group is killed.
// The outcome maps as for pipe(8): time limit → 5.3.0 "Command time limit
// exceeded", signal → 4.3.0, "X.Y.Z text" output with a non-zero exit →
// that status, sysexits 64-78 → their table, other non-zero exits → 5.3.0
// "Command died with status N".
//
// Trust: the command text is the administrator's or a user's own (it runs
// with that user's rights); its output is untrusted and bounded.
#pragma once

#include "ipc/deliver_dsn.h"
#include "ipc/deliver_mail_copy.h"

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace pf::local {

struct CommandJob {
    std::string command;
    std::string shell;                  // local_command_shell ("" : default)
    uid_t uid = 0;
    gid_t gid = 0;
    std::string cwd;                    // "" : stay
    std::vector<std::string> export_names;
    std::vector<std::pair<std::string, std::string>> env;
    int time_limit = 1000;
};

enum class CommandVerdict { ok, bounce, defer, corrupt };

struct CommandResult {
    CommandVerdict verdict = CommandVerdict::ok;
    ipc::Dsn dsn;
};

CommandResult run_local_command(const CommandJob& job, std::FILE* queue_file, long data_offset,
                                const ipc::CopyEnvelope& envelope, unsigned copy_flags);

// The reference's mapping, exposed for tests.
struct CommandExit {
    bool timed_out = false;
    bool exited = false;
    int status = 0;
    bool signaled = false;
    int signal = 0;
    std::string output;
    ipc::CopyResult copy;
    bool fork_failed = false;
    int fork_errno = 0;
};
CommandResult map_local_command(const CommandExit& run, const std::string& command);

}  // namespace pf::local
