// Running one delivery command for a delivery agent (pipe(8), and local(8)
// for |command destinations and mailbox_command), as the reference's
// pipe_command does it: fork; in the child chroot (optional), become the
// delivery account for good (gid, groups = that gid only, uid), start a new
// session, connect stdin to the message and stdout+stderr to one pipe,
// chdir (optional), and execve the argv with the given environment (no
// shell unless the argv names one; a name without '/' is searched in
// PATH=/usr/bin:/bin). The parent copies the message (deliver_mail_copy.h),
// then reads at most 4096 bytes of output, then waits for the exit; each of
// these steps waits at most time_limit seconds, and once one has timed out
// the command's process group is killed.
//
// The outcome maps as the reference maps it:
//   time limit        → bounce 5.3.0 "Command time limit exceeded: \"cmd\""
//   killed by signal  → defer 4.3.0 "Command died with signal N: \"cmd\""
//   output "X.Y.Z text" with a non-zero exit → that code and text
//   sysexits 64..78   → the table's code (EX_TEMPFAIL 4.3.0 "temporary
//                       failure", EX_NOUSER 5.1.1 "user unknown", ...)
//   other exit codes  → bounce 5.3.0 "Command died with status N: \"cmd\""
//   exit 0            → sent; the output is kept for the log
// with ". Command output: <output>" appended where the reference does, the
// output's tabs and newlines made blanks and other unprintable bytes '_'.
//
// Trust: the command and its output are untrusted; nothing reaches a shell
// that the caller did not put in argv; output is bounded.
#pragma once

#include "ipc/deliver_dsn.h"
#include "ipc/deliver_mail_copy.h"

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pf::config { class Config; }

namespace pf::ipc {

inline constexpr std::size_t kCommandOutputLimit = 4096;

struct CommandSpec {
    std::vector<std::string> argv;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string cwd;               // "": stay
    std::string chroot;            // "": none
    std::vector<std::string> env;  // "NAME=value"
    int time_limit = 1000;
    // How the child reports a failed exec on its output: "<prefix>execvp
    // <name>: <error>" (pipe(8): "pipe_command: ", local(8): "").
    std::string exec_failure_prefix;
    // Without root, a command for another uid fails in the child (setuid
    // EPERM) instead of running as ourselves (pipe(8) does; local does not
    // check).
    bool refuse_other_uid = false;
};

// What happened, before interpretation.
struct CommandRun {
    bool timed_out = false;
    bool exited = false;
    int exit_status = 0;
    bool signaled = false;
    int signal = 0;
    std::string output;          // raw bytes read (at most kCommandOutputLimit)
    CopyResult copy;
    bool fork_failed = false;
    int fork_errno = 0;
};

enum class CommandStatus { ok, bounce, defer, corrupt };

struct CommandOutcome {
    CommandStatus status = CommandStatus::ok;
    Dsn dsn;  // for ok: reason holds the cleaned-up output
};

// The environment for a command: each export_environment word that is
// name=value is set as given, each plain name is copied from environ_ptr
// when set there; then PATH=/usr/bin:/bin; then extra (later values of a
// name replace earlier ones in place).
std::vector<std::string> command_environment(const std::vector<std::string>& export_list, char** environ_ptr,
                                             const std::vector<std::pair<std::string, std::string>>& extra = {});

// The words of export_environment (the list command_environment takes).
std::vector<std::string> export_environment_list(const config::Config& config);

// A command's time limit for a pipe or spawn service: <service>_time_limit,
// or command_time_limit when that is not set; fatal on a bad value, with
// the reference's text.
int command_time_limit_for(const config::Config& config, const std::string& service);

// Tabs and newlines → blanks; other unprintable bytes → '_'; stops at a NUL.
std::string clean_command_output(std::string_view raw);

// The sysexits text and status for a code (unknown codes: 5.3.0 "unknown
// mail system error N").
struct SysExit {
    std::string status;
    std::string text;
};
SysExit sys_exit_detail(int code);

CommandOutcome map_command_result(const CommandRun& run, const std::string& command);

CommandRun run_command(const CommandSpec& spec, std::FILE* queue_file, long data_offset, const CopyEnvelope& envelope,
                       unsigned copy_flags, std::string_view eol);

}  // namespace pf::ipc
