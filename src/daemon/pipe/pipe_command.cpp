// pipe(8) command execution through the shared runner (pipe_command.h).
#include "pipe_command.h"

namespace pf::pipe {

CommandRun run_command(const CommandSpec& spec, std::FILE* queue_file, long data_offset,
                       const ipc::CopyEnvelope& envelope, unsigned copy_flags, std::string_view eol) {
    ipc::CommandSpec shared = spec;
    shared.exec_failure_prefix = "pipe_command: ";
    shared.refuse_other_uid = true;
    return ipc::run_command(shared, queue_file, data_offset, envelope, copy_flags, eol);
}

}  // namespace pf::pipe
