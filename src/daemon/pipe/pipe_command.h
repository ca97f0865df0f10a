// Running one pipe(8) command, as the reference does it (its
// pipe_command): fork; in the child chroot (optional), become the user=
// account for good (gid, groups = that gid only, uid), start a new process
// group, connect stdin to the message and stdout+stderr to one pipe, chdir
// (optional), replace the environment by the export_environment variables
// plus PATH=/usr/bin:/bin, and execve the argv (no shell; a command name
// without '/' is looked up in that PATH). The parent copies the message
// (deliver_mail_copy.h), then reads at most 4096 bytes of output, then
// waits for the exit; each of these steps waits at most time_limit
// seconds, and once one has timed out the process group is killed.
//
// The outcome maps as the reference maps it (map_command_result):
//   time limit        → bounce 5.3.0 "Command time limit exceeded: \"cmd\""
//   killed by signal  → defer 4.3.0 "Command died with signal N: \"cmd\""
//   output "X.Y.Z text" with a non-zero exit → that code and text
//   sysexits 64..78   → the table's code (EX_TEMPFAIL 4.3.0 "temporary
//                       failure", EX_NOUSER 5.1.1 "user unknown", ...)
//   other exit codes  → bounce 5.3.0 "Command died with status N: \"cmd\""
//   exit 0            → sent; the output is kept for the log
// with ". Command output: <output>" appended where the reference does,
// the output's tabs and newlines made blanks and other unprintable bytes
// '_'.
//
// Trust: the command and its output are untrusted; nothing reaches a
// shell; output is bounded.
#pragma once

#include "ipc/deliver_dsn.h"
#include "ipc/deliver_mail_copy.h"

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace pf::pipe {

inline constexpr std::size_t kOutputLimit = 4096;

struct CommandSpec {
    std::vector<std::string> argv;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string cwd;
    std::string chroot;
    std::vector<std::string> env;  // "NAME=value"
    int time_limit = 1000;
};

// What happened, before interpretation.
struct CommandRun {
    bool timed_out = false;
    bool exited = false;
    int exit_status = 0;
    bool signaled = false;
    int signal = 0;
    std::string output;          // raw bytes read (at most kOutputLimit)
    ipc::CopyResult copy;
    bool fork_failed = false;
    int fork_errno = 0;
};

enum class CommandStatus { ok, bounce, defer, corrupt };

struct CommandOutcome {
    CommandStatus status = CommandStatus::ok;
    ipc::Dsn dsn;          // for ok: reason holds the cleaned-up output
};

// The environment for the command: each export_environment word that is
// name=value is set as given, each plain name is copied from environ when
// set; then PATH=/usr/bin:/bin.
std::vector<std::string> command_environment(const std::vector<std::string>& export_list, char** environ_ptr);

// Tabs and newlines → blanks; other unprintable bytes → '_'; stops at a NUL.
std::string clean_output(std::string_view raw);

// The sysexits text and status for a code (unknown codes: 5.3.0 "unknown
// mail system error N").
struct SysExit {
    std::string status;
    std::string text;
};
SysExit sys_exit_detail(int code);

CommandOutcome map_command_result(const CommandRun& run, const std::string& command);

CommandRun run_command(const CommandSpec& spec, std::FILE* queue_file, long data_offset,
                       const ipc::CopyEnvelope& envelope, unsigned copy_flags, std::string_view eol);

}  // namespace pf::pipe
