// Running one local(8) command delivery, as the reference's local does it
// through its pipe_command: a command with shell metacharacters (or any
// command when local_command_shell is set) runs as <shell> -c <command>
// (/bin/sh without local_command_shell), a plain one is split at blanks
// and executed directly. The rest (the child becomes the delivery user for
// good, new session, message on stdin, one pipe for stdout+stderr, time
// limits, the exit-status mapping) is the shared runner's
// (ipc/command_runner.h); the environment is export_environment, then
// PATH=/usr/bin:/bin, then the delivery variables (HOME, LOGNAME, ...).
//
// Trust: the command text is the administrator's or a user's own (it runs
// with that user's rights); its output is untrusted and bounded.
#pragma once

#include "ipc/command_runner.h"
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

using CommandVerdict = ipc::CommandStatus;

struct CommandResult {
    CommandVerdict verdict = CommandVerdict::ok;
    ipc::Dsn dsn;
};

CommandResult run_local_command(const CommandJob& job, std::FILE* queue_file, long data_offset,
                                const ipc::CopyEnvelope& envelope, unsigned copy_flags);

// The argv the command runs with (shell or split at blanks), for tests.
std::vector<std::string> local_command_argv(const CommandJob& job);

// The reference's mapping, exposed for tests.
using CommandExit = ipc::CommandRun;
CommandResult map_local_command(const CommandExit& run, const std::string& command);

}  // namespace pf::local
