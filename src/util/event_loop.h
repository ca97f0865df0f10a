// One poll(2)-based event loop per process: read-readiness callbacks on file
// descriptors and one-shot timers, as the reference's event layer gives its
// daemons and master. No threads; callbacks run one at a time, from run_once.
//
// use_epoll() switches a loop that watches many descriptors (master: every
// listening socket and every child's status channel) to epoll(7), whose
// cost per wait does not grow with the number watched. Its rule: a watched
// fd is unwatched before it is closed (an fd also open in a forked child
// would otherwise stay registered).
//
// Callbacks may add or remove fds and timers (their own included) while they
// run; an event already collected for an fd that a callback unwatched is
// dropped, even if the number has been reused meanwhile. Trust: none needed; fds are the caller's.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <vector>

namespace pf::util {

class EventLoop {
public:
    using Clock = std::chrono::steady_clock;
    using TimerId = std::uint64_t;

    EventLoop() = default;
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    ~EventLoop();

    // epoll(7) from the next run_once on (see the header comment); the
    // epoll descriptor is close-on-exec and made at that first wait, so a
    // fork before it (master -w) shares nothing.
    void use_epoll() { want_epoll_ = true; }

    // Calls on_readable whenever fd polls readable (or hung up / in error).
    // Replaces an earlier callback for the same fd.
    void watch_fd(int fd, std::function<void()> on_readable);
    // watch_fd for a listening socket that several processes wait on: under
    // epoll it is registered with EPOLLEXCLUSIVE, so that a connection wakes
    // one waiting process (or a few), not every one of them.
    void watch_fd_exclusive(int fd, std::function<void()> on_readable);
    void unwatch_fd(int fd);
    bool watching(int fd) const { return fds_.contains(fd); }

    // Runs callback once, after delay. Returns an id for cancel_timer.
    TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> callback);
    void cancel_timer(TimerId id);
    std::size_t timer_count() const { return timers_.size(); }

    // Waits at most max_wait (negative: until something happens) for fd
    // readiness or a due timer, then runs what is ready. Returns false when
    // poll failed for another reason than EINTR.
    bool run_once(std::chrono::milliseconds max_wait = std::chrono::milliseconds(-1));

private:
    struct Timer {
        Clock::time_point due;
        std::function<void()> callback;
    };
    long long next_wait_ms(std::chrono::milliseconds max_wait) const;
    bool wait_poll(int timeout);
    bool wait_epoll(int timeout);
    void run_timers();
    void begin_batch();
    void dispatch(int fd);

    std::map<int, std::function<void()>> fds_;
    std::set<int> exclusive_;  // fds of watch_fd_exclusive
    // Fds unwatched while a batch of ready events is being dispatched: the
    // rest of that batch skips them, even when a callback has meanwhile
    // watched a new descriptor with the same number (its readiness is not
    // known yet, and a read on it could block).
    std::set<int> unwatched_in_batch_;
    bool dispatching_ = false;
    std::map<TimerId, Timer> timers_;
    TimerId next_timer_ = 1;
    bool want_epoll_ = false;
    int epoll_fd_ = -1;
};

}  // namespace pf::util
