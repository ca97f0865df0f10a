// Running one pipe(8) command: the shared delivery-command runner
// (ipc/command_runner.h) with pipe(8)'s own settings. The child reports a
// failed exec as "pipe_command: execvp <name>: <error>" (the reference's
// pipe runs argv itself), and without root a command for another uid is
// refused instead of run as ourselves. Everything else (privileges,
// environment, time limits, output capture, the exit-status mapping) is
// the runner's; its names are re-exported here for pipe.cpp and the tests.
//
// Trust: the command and its output are untrusted; nothing reaches a
// shell; output is bounded.
#pragma once

#include "ipc/command_runner.h"

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace pf::pipe {

inline constexpr std::size_t kOutputLimit = ipc::kCommandOutputLimit;

using ipc::CommandOutcome;
using ipc::CommandRun;
using ipc::CommandStatus;
using ipc::SysExit;
using ipc::map_command_result;
using ipc::sys_exit_detail;

// The runner's spec; run_command() sets its pipe-specific fields
// (exec_failure_prefix, refuse_other_uid). A type of its own so that
// run_command(spec, ...) picks pipe's runner.
struct CommandSpec : ipc::CommandSpec {};

// export_environment (name=value as given, names copied from environ_ptr)
// plus PATH=/usr/bin:/bin.
inline std::vector<std::string> command_environment(const std::vector<std::string>& export_list, char** environ_ptr) {
    return ipc::command_environment(export_list, environ_ptr);
}

inline std::string clean_output(std::string_view raw) { return ipc::clean_command_output(raw); }

CommandRun run_command(const CommandSpec& spec, std::FILE* queue_file, long data_offset,
                       const ipc::CopyEnvelope& envelope, unsigned copy_flags, std::string_view eol);

}  // namespace pf::pipe
