// postsuper(1): closes the last descriptor of files that postsuper has
// just unlinked, on worker threads. Freeing an unlinked file (its page
// cache, extent tree, inode and blocks) happens when its last reference
// goes away; on a filesystem that discards freed blocks at once (ext4
// without a journal, mounted with -o discard) that also waits for one
// discard request per file. Holding an O_PATH descriptor across the
// unlink moves that work from the unlink to the close, and closing on
// other threads lets it overlap with the next files' lookups and unlinks
// and with other closes. Everything the user can see (which entries are
// removed, in which order, every error and log line, the counts) stays on
// the calling thread and in the reference 3.7.11's order; only the
// freeing of already unlinked inodes moves.
//
// Threads and the extra descriptor only pay when freeing files waits for
// the disk: when it only uses the CPU (blocks not yet allocated, no
// discard), the open, the close and the hand-over cost more than they save
// on two cores. So the caller starts without the pool, unlinking as the
// reference does and timing each unlink (observe()); once several unlinks
// of a window of them were slow and slept (waited, rather than lost the
// CPU to another process), the pool is engaged() and the caller
// switches to descriptors handed over with release(). Workers start on
// demand: one at first, another (up to a small limit) whenever closes
// fall behind.
//
// Trust: descriptors handed in belong to the pool; nothing is read
// through them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace pf::postsuper {

class ReleasePool {
public:
    ReleasePool() = default;
    ReleasePool(const ReleasePool&) = delete;
    ReleasePool& operator=(const ReleasePool&) = delete;
    // Closes what is pending and stops the workers.
    ~ReleasePool();

    // Monotonic clock in nanoseconds, for timing an unlink.
    static long now_ns();
    // Records how long one unlink (freeing included) took on the caller's
    // thread.
    void observe(long nanoseconds);
    // Whether unlinks were slow: the caller should hand descriptors over.
    bool engaged() const { return engaged_; }
    // Takes fd over and closes it soon, on a worker thread (on this one,
    // timed, while not engaged). Blocks while too many closes are pending
    // (bounded descriptor use).
    void release(int fd);
    // Returns once every descriptor handed in so far is closed.
    void drain();

private:
    void work();

    // An unlink or close slower than this waited for something (the disk);
    // freeing a small file costs a few microseconds of CPU.
    static constexpr long kSlowNanoseconds = 50'000;
    // The workers take over after kSlowToEngage slow ones within a window
    // of kWindow.
    static constexpr int kWindow = 64;
    static constexpr int kSlowToEngage = 8;
    static constexpr std::size_t kMaxWorkers = 4;
    static constexpr std::size_t kMaxPending = 128;
    // Pending closes per running worker beyond which another one starts.
    static constexpr std::size_t kBacklogPerWorker = 8;

    // Unlinks on the calling thread, until engaged_.
    bool engaged_ = false;
    int window_seen_ = 0;
    int window_slow_ = 0;
    long sleeps_ = 0;  // this thread's voluntary context switches so far

    std::mutex mutex_;
    std::condition_variable work_ready_;   // workers: a descriptor or stop
    std::condition_variable room_ready_;   // release(), drain(): progress
    std::deque<int> pending_;
    std::size_t busy_ = 0;                 // closes in progress
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace pf::postsuper
