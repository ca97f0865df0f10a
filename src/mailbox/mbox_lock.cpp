// Dotlock files and kernel locks for mailbox delivery: see mbox_lock.h.
#include "mailbox/mbox_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fmt/core.h>
#include <random>
#include <thread>

namespace pf::mailbox {

void rand_sleep(long delay_us, long variation_us) {
    if (delay_us <= 0 && variation_us <= 0) return;
    static std::minstd_rand rng(static_cast<unsigned>(::getpid() ^ std::time(nullptr)));
    long span = variation_us > 0 ? variation_us : 1;
    long usec = delay_us - variation_us / 2 + static_cast<long>(rng() % static_cast<unsigned long>(span));
    if (usec < 0) usec = 0;
    struct timespec ts {
        usec / 1000000, (usec % 1000000) * 1000
    };
    while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

int dot_lockfile(const std::string& path, const LockRetry& retry, std::string& why) {
    const std::string lock_file = path + ".lock";
    int status = -1;
    int saved = 0;
    for (int count = 1;; ++count) {
        int fd = ::open(lock_file.c_str(), O_WRONLY | O_EXCL | O_CREAT | O_CLOEXEC, 0);
        if (fd >= 0) {
            ::close(fd);
            status = 0;
            break;
        }
        saved = errno;
        if (count >= retry.attempts) break;
        if (saved != EEXIST) break;
        struct stat st {};
        if (::stat(lock_file.c_str(), &st) == 0 && std::time(nullptr) > st.st_ctime + retry.stale_time)
            if (::unlink(lock_file.c_str()) < 0 && errno != ENOENT) {
                saved = errno;
                break;
            }
        rand_sleep(retry.delay * 1000000L, retry.delay * 1000000L / 2);
    }
    if (status != 0) {
        why = fmt::format("unable to create lock file {}: {}", lock_file, std::strerror(saved));
        errno = saved;
    }
    return status;
}

void dot_unlockfile(const std::string& path) {
    int saved = errno;
    (void)::unlink((path + ".lock").c_str());
    errno = saved;
}

namespace {

int try_lock(int fd, KernelLock style) {
    if (style == KernelLock::flock) {
        while (::flock(fd, LOCK_EX | LOCK_NB) < 0) {
            if (errno != EINTR) return -1;
        }
        return 0;
    }
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    while (::fcntl(fd, F_SETLK, &lock) < 0) {
        if (errno != EINTR) {
            // The reference's myflock reports a held lock as EAGAIN.
            if (errno == EACCES) errno = EAGAIN;
            return -1;
        }
    }
    return 0;
}

}  // namespace

int deliver_flock(int fd, KernelLock style, const LockRetry& retry, std::string& why) {
    for (int i = 1;; ++i) {
        if (try_lock(fd, style) == 0) return 0;
        if (i >= retry.attempts) break;
        rand_sleep(retry.delay * 1000000L, retry.delay * 1000000L / 2);
    }
    int saved = errno;
    why = fmt::format("unable to lock for exclusive access: {}", std::strerror(saved));
    errno = saved;
    return -1;
}

}  // namespace pf::mailbox
