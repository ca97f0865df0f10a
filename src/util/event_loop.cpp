// The poll(2) event loop of event_loop.h.
#include "util/event_loop.h"

#include <algorithm>
#include <cerrno>
#include <poll.h>

namespace pf::util {

void EventLoop::watch_fd(int fd, std::function<void()> on_readable) { fds_[fd] = std::move(on_readable); }

void EventLoop::unwatch_fd(int fd) { fds_.erase(fd); }

EventLoop::TimerId EventLoop::add_timer(std::chrono::milliseconds delay, std::function<void()> callback) {
    TimerId id = next_timer_++;
    timers_[id] = Timer{Clock::now() + delay, std::move(callback)};
    return id;
}

void EventLoop::cancel_timer(TimerId id) { timers_.erase(id); }

bool EventLoop::run_once(std::chrono::milliseconds max_wait) {
    auto now = Clock::now();
    long long wait_ms = max_wait.count();
    for (const auto& [id, timer] : timers_) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(timer.due - now).count();
        if (left < 0) left = 0;
        if (wait_ms < 0 || left < wait_ms) wait_ms = left;
    }
    std::vector<pollfd> polled;
    polled.reserve(fds_.size());
    for (const auto& [fd, callback] : fds_) polled.push_back(pollfd{fd, POLLIN, 0});
    int timeout = wait_ms < 0 ? -1 : static_cast<int>(std::min<long long>(wait_ms, 1 << 30));
    int n = ::poll(polled.data(), polled.size(), timeout);
    if (n < 0 && errno != EINTR) return false;
    if (n > 0) {
        for (const auto& p : polled) {
            if (p.revents == 0) continue;
            // The fd may have been unwatched (or replaced) by an earlier callback.
            auto it = fds_.find(p.fd);
            if (it == fds_.end()) continue;
            auto callback = it->second;  // a copy: the callback may unwatch itself
            callback();
        }
    }
    // Timers due now, in order of their due time.
    now = Clock::now();
    std::vector<TimerId> due;
    for (const auto& [id, timer] : timers_)
        if (timer.due <= now) due.push_back(id);
    std::sort(due.begin(), due.end(), [this](TimerId a, TimerId b) { return timers_[a].due < timers_[b].due; });
    for (TimerId id : due) {
        auto it = timers_.find(id);
        if (it == timers_.end()) continue;  // cancelled by an earlier callback
        auto callback = std::move(it->second.callback);
        timers_.erase(it);
        callback();
    }
    return true;
}

}  // namespace pf::util
