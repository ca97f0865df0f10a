// local(8) command execution (local_command_run.h).
#include "local_command_run.h"

extern char** environ;

namespace pf::local {

namespace {

constexpr std::string_view kShellMeta = "\"'`\\$;&()|<>~{}[]*?\t\r\n";

void split_blanks(const std::string& text, std::vector<std::string>& out) {
    for (std::size_t i = 0; i < text.size();) {
        auto start = text.find_first_not_of(" \t\r\n", i);
        if (start == std::string::npos) break;
        auto end = text.find_first_of(" \t\r\n", start);
        out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        i = end == std::string::npos ? text.size() : end;
    }
}

}  // namespace

std::vector<std::string> local_command_argv(const CommandJob& job) {
    std::vector<std::string> argv;
    if (!job.shell.empty()) {
        split_blanks(job.shell, argv);
        argv.push_back(job.command);
    } else if (job.command.find_first_of(kShellMeta) != std::string::npos) {
        argv = {"/bin/sh", "-c", job.command};
    } else {
        split_blanks(job.command, argv);
    }
    return argv;
}

CommandResult map_local_command(const CommandExit& run, const std::string& command) {
    ipc::CommandOutcome o = ipc::map_command_result(run, command);
    return CommandResult{o.status, std::move(o.dsn)};
}

CommandResult run_local_command(const CommandJob& job, std::FILE* queue_file, long data_offset,
                                const ipc::CopyEnvelope& envelope, unsigned copy_flags) {
    ipc::CommandSpec spec;
    spec.argv = local_command_argv(job);
    spec.uid = job.uid;
    spec.gid = job.gid;
    spec.cwd = job.cwd;
    spec.env = ipc::command_environment(job.export_names, environ, job.env);
    spec.time_limit = job.time_limit;
    // The reference's local runs the command through its exec_command,
    // whose exec failure text has no "pipe_command: " prefix.
    spec.exec_failure_prefix = "";
    return map_local_command(ipc::run_command(spec, queue_file, data_offset, envelope, copy_flags, "\n"), job.command);
}

}  // namespace pf::local
