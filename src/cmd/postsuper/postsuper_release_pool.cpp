// postsuper(1): the worker threads that close descriptors of unlinked
// files (see postsuper_release_pool.h for why). A plain queue under one
// mutex: the closes are few microseconds of CPU or a disk round trip each,
// against which the locking is noise.
//
// Trust: only descriptors postsuper opened itself are queued.
#include "cmd/postsuper/postsuper_release_pool.h"

#include <sys/resource.h>
#include <system_error>
#include <time.h>
#include <unistd.h>

namespace pf::postsuper {

ReleasePool::~ReleasePool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& worker : workers_) worker.join();
    for (int fd : pending_) ::close(fd);  // only when no worker could start
}

long ReleasePool::now_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1'000'000'000L + now.tv_nsec;
}

void ReleasePool::observe(long nanoseconds) {
    // Slow because it slept (voluntary context switch: waiting for the
    // disk), not because another process had the CPU.
    if (nanoseconds > kSlowNanoseconds) {
        rusage usage{};
        if (::getrusage(RUSAGE_THREAD, &usage) == 0) {
            if (usage.ru_nvcsw > sleeps_ && ++window_slow_ >= kSlowToEngage) engaged_ = true;
            sleeps_ = usage.ru_nvcsw;
        }
    }
    if (++window_seen_ == kWindow) window_seen_ = window_slow_ = 0;
}

void ReleasePool::release(int fd) {
    if (!engaged_) {
        const long before = now_ns();
        ::close(fd);
        observe(now_ns() - before);
        return;
    }
    std::unique_lock lock(mutex_);
    room_ready_.wait(lock, [this] { return pending_.size() < kMaxPending || workers_.empty(); });
    pending_.push_back(fd);
    // Closes that fall behind wait for the disk: more of them may wait at
    // once. A worker that cannot start leaves the work to the others, or
    // to this thread when there are none.
    if (workers_.size() < kMaxWorkers &&
        (workers_.empty() || pending_.size() > kBacklogPerWorker * workers_.size())) {
        try {
            workers_.emplace_back([this] { work(); });
        } catch (const std::system_error&) {
            if (workers_.empty()) {
                pending_.pop_back();
                lock.unlock();
                ::close(fd);
                return;
            }
        }
    }
    lock.unlock();
    work_ready_.notify_one();
}

void ReleasePool::drain() {
    std::unique_lock lock(mutex_);
    room_ready_.wait(lock, [this] { return (pending_.empty() && busy_ == 0) || workers_.empty(); });
}

void ReleasePool::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        work_ready_.wait(lock, [this] { return !pending_.empty() || stopping_; });
        if (pending_.empty()) return;
        int fd = pending_.front();
        pending_.pop_front();
        ++busy_;
        lock.unlock();
        room_ready_.notify_all();
        ::close(fd);
        lock.lock();
        --busy_;
        if (busy_ == 0 && pending_.empty()) room_ready_.notify_all();
    }
}

}  // namespace pf::postsuper
