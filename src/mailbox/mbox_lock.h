// The locks of mailbox delivery, as the reference takes them (its
// dot_lockfile and deliver_flock): <path>.lock created with O_CREAT|O_EXCL
// (mode 0, never following a symlink), retried deliver_lock_attempts times
// deliver_lock_delay seconds apart (randomised by half), removing a lock
// older than stale_lock_time seconds (by its ctime); kernel locks (flock
// or fcntl, exclusive, non-blocking) retried the same way.
//
// Trust: whatever is at <path>.lock is hostile (stale, another user's, a
// symlink: O_EXCL refuses them all).
#pragma once

#include <string>

namespace pf::mailbox {

struct LockRetry {
    int attempts = 20;     // deliver_lock_attempts
    int delay = 1;         // deliver_lock_delay, seconds
    int stale_time = 500;  // stale_lock_time, seconds
};

// 0 on success; -1 with errno set and why = "unable to create lock file
// <path>.lock: <strerror>".
int dot_lockfile(const std::string& path, const LockRetry& retry, std::string& why);
// Removes <path>.lock, errno preserved.
void dot_unlockfile(const std::string& path);

enum class KernelLock { flock, fcntl };
// 0 on success; -1 with errno set and why = "unable to lock for exclusive
// access: <strerror>".
int deliver_flock(int fd, KernelLock style, const LockRetry& retry, std::string& why);

// Sleeps delay microseconds give or take half of variation (the
// reference's rand_sleep); tests may set the delay to 0.
void rand_sleep(long delay_us, long variation_us);

}  // namespace pf::mailbox
