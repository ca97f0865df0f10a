// The poll(2) / epoll(7) event loop of event_loop.h.
#include "util/event_loop.h"

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace pf::util {

EventLoop::~EventLoop() {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void EventLoop::watch_fd_exclusive(int fd, std::function<void()> on_readable) {
    if (!fds_.contains(fd)) exclusive_.insert(fd);
    watch_fd(fd, std::move(on_readable));
}

void EventLoop::watch_fd(int fd, std::function<void()> on_readable) {
    auto [it, added] = fds_.insert_or_assign(fd, std::move(on_readable));
    (void)it;
    if (added && epoll_fd_ >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN | (exclusive_.contains(fd) ? EPOLLEXCLUSIVE : 0u);
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0 && errno == EEXIST)
            (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
    }
}

void EventLoop::unwatch_fd(int fd) {
    if (dispatching_) unwatched_in_batch_.insert(fd);
    exclusive_.erase(fd);
    if (fds_.erase(fd) != 0 && epoll_fd_ >= 0) (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::add_timer(std::chrono::milliseconds delay, std::function<void()> callback) {
    TimerId id = next_timer_++;
    timers_[id] = Timer{Clock::now() + delay, std::move(callback)};
    return id;
}

void EventLoop::cancel_timer(TimerId id) { timers_.erase(id); }

long long EventLoop::next_wait_ms(std::chrono::milliseconds max_wait) const {
    auto now = Clock::now();
    long long wait_ms = max_wait.count();
    for (const auto& [id, timer] : timers_) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(timer.due - now).count();
        if (left < 0) left = 0;
        if (wait_ms < 0 || left < wait_ms) wait_ms = left;
    }
    return wait_ms;
}

void EventLoop::begin_batch() {
    unwatched_in_batch_.clear();
    dispatching_ = true;
}

void EventLoop::dispatch(int fd) {
    // Unwatched by an earlier callback of this batch (perhaps watched again
    // under the same number for another descriptor): not this event's.
    if (unwatched_in_batch_.contains(fd)) return;
    auto it = fds_.find(fd);
    if (it == fds_.end()) return;
    auto callback = it->second;  // a copy: the callback may unwatch itself
    callback();
}

bool EventLoop::wait_poll(int timeout) {
    std::vector<pollfd> polled;
    polled.reserve(fds_.size());
    for (const auto& [fd, callback] : fds_) polled.push_back(pollfd{fd, POLLIN, 0});
    int n = ::poll(polled.data(), polled.size(), timeout);
    if (n < 0 && errno != EINTR) return false;
    if (n > 0) {
        begin_batch();
        for (const auto& p : polled) {
            if (p.revents == 0) continue;
            dispatch(p.fd);
        }
        dispatching_ = false;
    }
    return true;
}

bool EventLoop::wait_epoll(int timeout) {
    if (epoll_fd_ < 0) {
        epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0) return false;
        for (const auto& [fd, callback] : fds_) {
            epoll_event ev{};
            ev.events = EPOLLIN | (exclusive_.contains(fd) ? EPOLLEXCLUSIVE : 0u);
            ev.data.fd = fd;
            (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
        }
    }
    epoll_event events[64];
    int n = ::epoll_wait(epoll_fd_, events, 64, timeout);
    if (n < 0 && errno != EINTR) return false;
    // The order of poll: ascending descriptors.
    if (n > 1)
        std::sort(events, events + n, [](const epoll_event& a, const epoll_event& b) { return a.data.fd < b.data.fd; });
    begin_batch();
    for (int i = 0; i < n; ++i) dispatch(events[i].data.fd);
    dispatching_ = false;
    return true;
}

void EventLoop::run_timers() {
    // Timers due now, in order of their due time.
    auto now = Clock::now();
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
}

bool EventLoop::run_once(std::chrono::milliseconds max_wait) {
    long long wait_ms = next_wait_ms(max_wait);
    int timeout = wait_ms < 0 ? -1 : static_cast<int>(std::min<long long>(wait_ms, 1 << 30));
    if (!(want_epoll_ ? wait_epoll(timeout) : wait_poll(timeout))) return false;
    run_timers();
    return true;
}

}  // namespace pf::util
