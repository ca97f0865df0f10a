// postsuper(1)'s ReleasePool: descriptors handed in are all closed by the
// time drain() returns, whether the pool closes them on the caller's
// thread (not engaged: unlinks were fast) or on its workers (engaged:
// unlinks were slow and slept); it engages only on slow unlinks that slept.
#include "cmd/postsuper/postsuper_release_pool.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace pf::postsuper {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

std::vector<int> open_some(int count) {
    std::vector<int> fds;
    for (int i = 0; i < count; ++i) {
        int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        EXPECT_GE(fd, 0);
        fds.push_back(fd);
    }
    return fds;
}

// A slow unlink as the pool sees one: this thread slept (a voluntary
// context switch) before it is reported as taking a second.
void observe_slow_sleeping(ReleasePool& pool) {
    timespec nap{0, 100'000};
    ::nanosleep(&nap, nullptr);
    pool.observe(1'000'000'000L);
}

TEST(PostsuperReleasePool, FastUnlinksKeepClosesOnTheCaller) {
    ReleasePool pool;
    for (int i = 0; i < 200; ++i) pool.observe(1'000);
    EXPECT_FALSE(pool.engaged());
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    pool.release(fd);
    EXPECT_FALSE(is_open(fd));  // closed at once, on this thread
}

TEST(PostsuperReleasePool, SlowSleepingUnlinksEngageTheWorkers) {
    ReleasePool pool;
    for (int i = 0; i < 8; ++i) observe_slow_sleeping(pool);
    ASSERT_TRUE(pool.engaged());
    std::vector<int> fds = open_some(500);  // more than may be pending at once
    for (int fd : fds) pool.release(fd);
    pool.drain();
    for (int fd : fds) EXPECT_FALSE(is_open(fd)) << fd;
    // The descriptor numbers are free again.
    int again = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT_LE(again, fds.back());
    ::close(again);
}

TEST(PostsuperReleasePool, SlowUnlinksSpreadOverWindowsDoNotEngage) {
    ReleasePool pool;
    // Seven slow ones per window of 64: below the threshold every time.
    for (int window = 0; window < 4; ++window)
        for (int i = 0; i < 64; ++i) {
            if (i < 7) observe_slow_sleeping(pool);
            else pool.observe(1'000);
        }
    EXPECT_FALSE(pool.engaged());
}

TEST(PostsuperReleasePool, DestructorClosesWhatIsPending) {
    std::vector<int> fds;
    {
        ReleasePool pool;
        for (int i = 0; i < 8; ++i) observe_slow_sleeping(pool);
        ASSERT_TRUE(pool.engaged());
        fds = open_some(50);
        for (int fd : fds) pool.release(fd);
    }
    for (int fd : fds) EXPECT_FALSE(is_open(fd)) << fd;
}

}  // namespace
}  // namespace pf::postsuper
