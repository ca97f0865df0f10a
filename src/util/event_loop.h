// One poll(2)-based event loop per process: read-readiness callbacks on file
// descriptors and one-shot timers, as the reference's event layer gives its
// daemons and master. No threads; callbacks run one at a time, from run_once.
//
// Callbacks may add or remove fds and timers (their own included) while they
// run. Trust: none needed; fds are the caller's.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

namespace pf::util {

class EventLoop {
public:
    using Clock = std::chrono::steady_clock;
    using TimerId = std::uint64_t;

    // Calls on_readable whenever fd polls readable (or hung up / in error).
    // Replaces an earlier callback for the same fd.
    void watch_fd(int fd, std::function<void()> on_readable);
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
    std::map<int, std::function<void()>> fds_;
    std::map<TimerId, Timer> timers_;
    TimerId next_timer_ = 1;
};

}  // namespace pf::util
