// The poll event loop (util/event_loop.h): timers in due order, one-shot,
// cancel; fd callbacks, unwatching from inside a callback; the same with
// the epoll backend, plus fds watched before and after it starts and
// callbacks in descriptor order; an event collected for an fd that an
// earlier callback closed is not handed to a new fd of the same number.
#include "util/event_loop.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

namespace pf::util {
namespace {

using namespace std::chrono_literals;

TEST(EventLoopTest, TimersRunOnceInDueOrder) {
    EventLoop loop;
    std::string order;
    loop.add_timer(20ms, [&] { order += 'b'; });
    loop.add_timer(0ms, [&] { order += 'a'; });
    auto cancelled = loop.add_timer(5ms, [&] { order += 'x'; });
    loop.cancel_timer(cancelled);
    for (int i = 0; i < 20 && loop.timer_count() > 0; ++i) loop.run_once(1000ms);
    EXPECT_EQ(order, "ab");
    EXPECT_EQ(loop.timer_count(), 0u);
}

TEST(EventLoopTest, TimerMayRearmItself) {
    EventLoop loop;
    int runs = 0;
    std::function<void()> tick = [&] {
        if (++runs < 3) loop.add_timer(0ms, tick);
    };
    loop.add_timer(0ms, tick);
    for (int i = 0; i < 10 && loop.timer_count() > 0; ++i) loop.run_once(1000ms);
    EXPECT_EQ(runs, 3);
}

TEST(EventLoopTest, FdReadableAndUnwatchFromCallback) {
    EventLoop loop;
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    int calls = 0;
    loop.watch_fd(p[0], [&] {
        char c;
        ASSERT_EQ(::read(p[0], &c, 1), 1);
        ++calls;
        loop.unwatch_fd(p[0]);
    });
    loop.run_once(0ms);
    EXPECT_EQ(calls, 0);
    ASSERT_EQ(::write(p[1], "xy", 2), 2);
    loop.run_once(1000ms);
    loop.run_once(0ms);
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(loop.watching(p[0]));
    ::close(p[0]);
    ::close(p[1]);
}

TEST(EventLoopTest, EpollFdReadableUnwatchAndOrder) {
    EventLoop loop;
    loop.use_epoll();
    int a[2], b[2];
    ASSERT_EQ(::pipe(a), 0);
    std::string order;
    // Watched before the epoll descriptor exists (made at the first wait).
    loop.watch_fd(a[0], [&] {
        char c;
        ASSERT_EQ(::read(a[0], &c, 1), 1);
        order += 'a';
    });
    loop.run_once(0ms);
    EXPECT_EQ(order, "");
    ASSERT_EQ(::pipe(b), 0);  // a higher descriptor than a[0]
    loop.watch_fd(b[0], [&] {
        char c;
        ASSERT_EQ(::read(b[0], &c, 1), 1);
        order += 'b';
        loop.unwatch_fd(b[0]);
    });
    ASSERT_EQ(::write(b[1], "yy", 2), 2);
    ASSERT_EQ(::write(a[1], "x", 1), 1);
    loop.run_once(1000ms);
    EXPECT_EQ(order, "ab");  // ascending descriptors, as poll
    loop.run_once(0ms);      // b is unwatched, a drained: nothing runs
    EXPECT_EQ(order, "ab");
    EXPECT_FALSE(loop.watching(b[0]));
    // A replaced callback for a watched fd.
    loop.watch_fd(a[0], [&] {
        char c;
        ASSERT_EQ(::read(a[0], &c, 1), 1);
        order += 'A';
    });
    ASSERT_EQ(::write(a[1], "x", 1), 1);
    loop.run_once(1000ms);
    EXPECT_EQ(order, "abA");
    loop.unwatch_fd(a[0]);
    for (int fd : {a[0], a[1], b[0], b[1]}) ::close(fd);
}

// A descriptor watched "exclusive" (listening sockets shared between
// processes) still calls back, whether watched before or after epoll
// starts, and may be unwatched and watched again.
TEST(EventLoopTest, EpollExclusiveWatch) {
    EventLoop loop;
    loop.use_epoll();
    int a[2], b[2];
    ASSERT_EQ(::pipe(a), 0);
    ASSERT_EQ(::pipe(b), 0);
    int hits_a = 0, hits_b = 0;
    loop.watch_fd_exclusive(a[0], [&] {
        char c;
        if (::read(a[0], &c, 1) == 1) ++hits_a;
    });
    ASSERT_EQ(::write(a[1], "x", 1), 1);
    loop.run_once(1000ms);
    EXPECT_EQ(hits_a, 1);
    loop.watch_fd_exclusive(b[0], [&] {
        char c;
        if (::read(b[0], &c, 1) == 1) ++hits_b;
    });
    ASSERT_EQ(::write(b[1], "y", 1), 1);
    loop.run_once(1000ms);
    EXPECT_EQ(hits_b, 1);
    loop.unwatch_fd(a[0]);
    loop.watch_fd(a[0], [&] {
        char c;
        if (::read(a[0], &c, 1) == 1) hits_a += 10;
    });
    ASSERT_EQ(::write(a[1], "z", 1), 1);
    loop.run_once(1000ms);
    EXPECT_EQ(hits_a, 11);
    for (int fd : {a[0], a[1], b[0], b[1]}) ::close(fd);
}

TEST(EventLoopTest, EpollTimersAndMaxWait) {
    EventLoop loop;
    loop.use_epoll();
    std::string order;
    loop.add_timer(20ms, [&] { order += 'b'; });
    loop.add_timer(0ms, [&] { order += 'a'; });
    for (int i = 0; i < 20 && loop.timer_count() > 0; ++i) loop.run_once(1000ms);
    EXPECT_EQ(order, "ab");
    auto start = EventLoop::Clock::now();
    EXPECT_TRUE(loop.run_once(30ms));
    EXPECT_GE(EventLoop::Clock::now() - start, 25ms);
}

// The first callback of a batch closes the other ready descriptor and
// opens a new one that gets the same number (as master does when a child
// exits and another is spawned): the batch's event for the old descriptor
// must not reach the new one's callback, whose read would block.
static void stale_event_case(bool epoll) {
    EventLoop loop;
    if (epoll) loop.use_epoll();
    int low[2], high[2];
    ASSERT_EQ(::pipe(low), 0);
    ASSERT_EQ(::pipe(high), 0);
    ASSERT_LT(low[0], high[0]);
    ASSERT_EQ(::write(low[1], "x", 1), 1);
    ASSERT_EQ(::write(high[1], "y", 1), 1);
    int reused = -1, fresh_calls = 0, old_calls = 0;
    int fresh[2] = {-1, -1};
    loop.watch_fd(high[0], [&] { ++old_calls; });
    loop.watch_fd(low[0], [&] {
        char c;
        (void)::read(low[0], &c, 1);
        loop.unwatch_fd(low[0]);
        loop.unwatch_fd(high[0]);
        ::close(high[0]);
        ::close(high[1]);
        ASSERT_EQ(::pipe(fresh), 0);
        reused = fresh[0];
        loop.watch_fd(fresh[0], [&] { ++fresh_calls; });
    });
    loop.run_once(1000ms);
    EXPECT_EQ(reused, high[0]);
    EXPECT_EQ(old_calls, 0);
    EXPECT_EQ(fresh_calls, 0);
    // Readiness of the new descriptor is seen on a later wait.
    ASSERT_EQ(::write(fresh[1], "z", 1), 1);
    loop.run_once(1000ms);
    EXPECT_EQ(fresh_calls, 1);
    for (int fd : {low[0], low[1], fresh[0], fresh[1]}) ::close(fd);
}

TEST(EventLoopTest, StaleEventOfReusedFdIsDropped) { stale_event_case(false); }
TEST(EventLoopTest, EpollStaleEventOfReusedFdIsDropped) { stale_event_case(true); }

TEST(EventLoopTest, WaitIsBoundedByMaxWait) {
    EventLoop loop;
    auto start = EventLoop::Clock::now();
    EXPECT_TRUE(loop.run_once(30ms));
    EXPECT_GE(EventLoop::Clock::now() - start, 25ms);
}

}  // namespace
}  // namespace pf::util
