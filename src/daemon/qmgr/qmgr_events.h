// The event services the queue manager needs (one-shot timers with
// millisecond delays that can be cancelled, and read-readiness callbacks
// on descriptors), behind a small interface so that the manager runs the
// same under the daemon skeleton (qmgr.cpp bridges to it) and in tests on
// a private pf::util::EventLoop.
#pragma once

#include "util/event_loop.h"

#include <chrono>
#include <cstdint>
#include <functional>

namespace pf::qmgr {

class Events {
public:
    using TimerId = std::uint64_t;
    virtual ~Events() = default;
    virtual TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> callback) = 0;
    virtual void cancel_timer(TimerId id) = 0;
    virtual void watch_fd(int fd, std::function<void()> on_readable) = 0;
    virtual void unwatch_fd(int fd) = 0;
};

// Events on an EventLoop the caller runs.
class LoopEvents : public Events {
public:
    explicit LoopEvents(util::EventLoop& loop) : loop_(loop) {}
    TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> callback) override {
        return loop_.add_timer(delay, std::move(callback));
    }
    void cancel_timer(TimerId id) override { loop_.cancel_timer(id); }
    void watch_fd(int fd, std::function<void()> on_readable) override { loop_.watch_fd(fd, std::move(on_readable)); }
    void unwatch_fd(int fd) override { loop_.unwatch_fd(fd); }

private:
    util::EventLoop& loop_;
};

}  // namespace pf::qmgr
