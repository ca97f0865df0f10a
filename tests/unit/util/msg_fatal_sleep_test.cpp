// msg_fatal's one-second pause before exiting (the reference's programs all
// wait that long after a fatal error), checked in a forked child so that the
// test process itself survives the exit.
#include "util/msg.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <utility>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// Runs msg_fatal in a child; returns its exit status and how long it took.
std::pair<int, double> fatal_in_child(bool sleep_on) {
    std::fflush(nullptr);   // nothing buffered gets written twice by the child
    auto start = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
        pf::util::msg_fatal_throws(false);
        pf::util::msg_set_stderr(false);
        pf::util::msg_set_sink({});
        pf::util::msg_set_fatal_sleep(sleep_on);
        pf::util::msg_fatal("test fatal {}", 1);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {}
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, took.count()};
}

TEST(MsgFatalSleep, PausesOneSecondThenExitsOne) {
    auto [code, took] = fatal_in_child(true);
    EXPECT_EQ(code, 1);
    EXPECT_GE(took, 0.95);
    EXPECT_LT(took, 10.0);
}

TEST(MsgFatalSleep, NoPauseWhenTurnedOff) {
    auto [code, took] = fatal_in_child(false);
    EXPECT_EQ(code, 1);
    EXPECT_LT(took, 0.9);
}

}  // namespace
