// msg_panic's one-second pause before it aborts (the reference's programs
// wait after a panic as after a fatal error), checked in a forked child
// (without a core file) so that the test process itself survives.
#include "util/msg.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <utility>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// Runs msg_panic in a child; returns the signal that ended it (0 if none)
// and how long it took.
std::pair<int, double> panic_in_child(bool sleep_on) {
    std::fflush(nullptr);   // nothing buffered gets written twice by the child
    auto start = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
        struct rlimit none{0, 0};
        ::setrlimit(RLIMIT_CORE, &none);
        pf::util::msg_fatal_throws(false);
        pf::util::msg_set_stderr(false);
        pf::util::msg_set_sink({});
        pf::util::msg_set_fatal_sleep(sleep_on);
        pf::util::msg_panic("test panic {}", 1);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {}
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    return {WIFSIGNALED(status) ? WTERMSIG(status) : 0, took.count()};
}

TEST(MsgPanicSleep, PausesOneSecondThenAborts) {
    auto [sig, took] = panic_in_child(true);
    EXPECT_EQ(sig, SIGABRT);
    EXPECT_GE(took, 0.95);
    EXPECT_LT(took, 10.0);
}

TEST(MsgPanicSleep, NoPauseWhenTurnedOff) {
    auto [sig, took] = panic_in_child(false);
    EXPECT_EQ(sig, SIGABRT);
    EXPECT_LT(took, 0.9);
}

}  // namespace
