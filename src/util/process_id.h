// The calling process's id without a system call per use: getpid(2) is
// not cached by the C library, and a daemon asks for it on every log line
// and status report. The cached value is dropped in the child of every
// fork(2) (pthread_atfork), so a forked child that logs before its exec
// still reports its own id.
//
// Trust: none needed.
#pragma once

#include <sys/types.h>

namespace pf::util {

pid_t current_pid();

}  // namespace pf::util
