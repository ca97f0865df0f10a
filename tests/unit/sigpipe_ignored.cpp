// The unit-test binary ignores SIGPIPE, as every daemon and command whose
// code these tests run does before it writes to a child or a peer (local,
// virtual, pipe, smtp, postdrop, sendmail, ...). Without it a test that
// feeds a child process which exits before reading its input (a failed
// exec, a command that ignores stdin) kills the whole test binary instead
// of seeing EPIPE, depending on timing; sanitizer builds, being slower,
// hit that race every time (PipeCommand.RunsCommandAsItself,
// LocalCommand.ExecFailureText).
// Trusts: nothing; no input is read.
#include <csignal>

namespace {

[[maybe_unused]] const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}();

}  // namespace
