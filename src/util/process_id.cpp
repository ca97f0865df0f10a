// The cached process id of process_id.h.
#include "util/process_id.h"

#include <pthread.h>
#include <unistd.h>

namespace pf::util {
namespace {

pid_t g_pid = 0;  // 0: not known yet

void forget_pid() { g_pid = 0; }

}  // namespace

pid_t current_pid() {
    if (g_pid == 0) {
        static const bool registered = [] {
            ::pthread_atfork(nullptr, nullptr, forget_pid);
            return true;
        }();
        (void)registered;
        g_pid = ::getpid();
    }
    return g_pid;
}

}  // namespace pf::util
