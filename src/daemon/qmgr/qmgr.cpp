// qmgr(8): the queue manager daemon, a trigger server under master (the
// reference's master.cf line "qmgr unix n - n 300 1 qmgr"; also "fifo").
// It keeps no client connections: the wakeup bytes it reads are handled by
// QueueManager::trigger (qmgr_manager.h), everything else runs from timers
// and descriptor callbacks in the skeleton's single event loop. Like the
// reference it never exits on its own for max_use or max_idle.
//
// Privileges: none beyond mail_owner (the skeleton drops them; the daemon
// may run chrooted in queue_directory: every path it uses is relative).
#include "daemon/qmgr/qmgr_events.h"
#include "daemon/qmgr/qmgr_manager.h"
#include "daemon/qmgr/qmgr_settings.h"
#include "ipc/flush_client.h"
#include "ipc/mail_server.h"
#include "queue/queue_file.h"
#include "util/msg.h"

#include <chrono>
#include <cstring>
#include <map>
#include <sys/timerfd.h>
#include <unistd.h>

namespace {

using namespace pf;

// Events on the skeleton's loop: descriptors go straight to it; timers
// (with milliseconds and cancellation, which the skeleton's API lacks)
// live here and wake the loop through one timerfd.
class SkeletonEvents : public qmgr::Events {
public:
    SkeletonEvents() {
        fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd_ < 0) util::msg_fatal("timerfd_create: {}", std::strerror(errno));
        ipc::server_watch_fd(fd_, [this] { run_due(); });
    }
    ~SkeletonEvents() override {
        ipc::server_unwatch_fd(fd_);
        close(fd_);
    }
    TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> callback) override {
        TimerId id = next_++;
        timers_.emplace(id, Timer{Clock::now() + delay, std::move(callback)});
        rearm();
        return id;
    }
    void cancel_timer(TimerId id) override {
        timers_.erase(id);
        rearm();
    }
    void watch_fd(int fd, std::function<void()> on_readable) override {
        ipc::server_watch_fd(fd, std::move(on_readable));
    }
    void unwatch_fd(int fd) override { ipc::server_unwatch_fd(fd); }

private:
    using Clock = std::chrono::steady_clock;
    struct Timer {
        Clock::time_point due;
        std::function<void()> callback;
    };

    void run_due() {
        std::uint64_t expirations;
        while (read(fd_, &expirations, sizeof expirations) > 0) {
        }
        auto now = Clock::now();
        std::vector<TimerId> due;
        for (auto& [id, t] : timers_)
            if (t.due <= now) due.push_back(id);
        for (TimerId id : due) {
            auto it = timers_.find(id);
            if (it == timers_.end()) continue;  // cancelled by an earlier callback
            auto callback = std::move(it->second.callback);
            timers_.erase(it);
            callback();
        }
        rearm();
    }

    void rearm() {
        struct itimerspec spec{};
        if (!timers_.empty()) {
            auto first = timers_.begin()->second.due;
            for (auto& [id, t] : timers_) first = std::min(first, t.due);
            auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(first - Clock::now()).count();
            if (wait < 1) wait = 1;  // zero would disarm the timer
            spec.it_value.tv_sec = static_cast<time_t>(wait / 1000000000);
            spec.it_value.tv_nsec = static_cast<long>(wait % 1000000000);
        }
        timerfd_settime(fd_, 0, &spec, nullptr);
    }

    int fd_ = -1;
    TimerId next_ = 1;
    std::map<TimerId, Timer> timers_;
};

// Both live until the process ends and are deliberately never destroyed:
// their destructors unwatch descriptors on the skeleton's event loop, a
// function-local static that is constructed after these globals and so
// destroyed before them by exit() (a use after free under ASan).
SkeletonEvents* g_events = nullptr;
qmgr::QueueManager* g_manager = nullptr;

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.post_init = [](ipc::ServerContext& ctx) {
        // The reference's qmgr neither exits after a number of triggers
        // nor after idle time.
        ctx.max_use = 0;
        ctx.max_idle = 0;
        auto lookup = qmgr::config_lookup(ctx.config);
        auto settings = qmgr::QmgrSettings::from_lookup(lookup);
        qmgr::QueuePaths paths{queue::QueueLayout::from_config(ctx.config), true};
        // The skeleton runs us chdir'ed to queue_directory (maybe chrooted):
        // relative paths work either way.
        paths.layout.queue_directory.clear();
        paths.layout.queue_directory.push_back('.');
        g_events = new SkeletonEvents();
        auto manager_hooks = qmgr::QueueManager::default_hooks(settings, ".");
        manager_hooks.flush_add = [&config = ctx.config](std::string_view site, const std::string& queue_id) {
            auto status = ipc::flush_add(config, site, queue_id);
            if (status != ipc::FlushStatus::kOk && status != ipc::FlushStatus::kUnknown)
                util::msg_warn("{}: {} service failure", queue_id, config.get("flush_service_name"));
        };
        g_manager = new qmgr::QueueManager(settings, lookup, paths, *g_events, std::move(manager_hooks));
        g_manager->start();
    };
    hooks.on_idle = [](ipc::ServerContext&) {};
    return ipc::run_trigger_server(argc, argv, std::move(hooks), [](ipc::ServerContext&, std::string_view bytes) {
        if (g_manager) g_manager->trigger(bytes);
    });
}
