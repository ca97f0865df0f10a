// The pool of emptied queue files (see queue_file_pool.h).
#include "queue/queue_file_pool.h"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <linux/falloc.h>

namespace pf::queue {

namespace {

// Names read from the pool directory and not tried yet, for one process.
struct PoolCursor {
    std::string dir;
    std::vector<std::string> names;
    std::size_t next = 0;
    long quiet_until = 0;  // CLOCK_MONOTONIC milliseconds: do not read before
};

PoolCursor& cursor() {
    static PoolCursor c;
    return c;
}

long monotonic_ms() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// How long an empty pool is left alone: reading it costs a few system
// calls, a new file up to hundreds of microseconds of kernel time.
constexpr long kQuietMs = 100;

constexpr std::size_t kBatch = 64;
constexpr int kTries = 8;
constexpr int kRefills = 2;  // directory reads per file taken, at most

// Reads up to kBatch names; several cleanup processes read the same
// directory, so each starts its turn at a different place in the list.
void refill(PoolCursor& c) {
    c.names.clear();
    c.next = 0;
    DIR* d = ::opendir(c.dir.c_str());
    if (d == nullptr) return;
    while (c.names.size() < kBatch) {
        dirent* e = ::readdir(d);
        if (e == nullptr) break;
        if (e->d_name[0] == '.') continue;
        if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
        c.names.emplace_back(e->d_name);
    }
    ::closedir(d);
    if (c.names.size() > 1)
        std::rotate(c.names.begin(), c.names.begin() + static_cast<long>(static_cast<std::size_t>(::getpid()) % c.names.size()),
                    c.names.end());
}

// Makes the content of the open file fd read as zeros, keeping its blocks
// where the filesystem can (see the header comment), else truncates it.
bool empty_file(int fd, const struct stat& st) {
    if (st.st_size <= 0) return true;
    if (st.st_size > kKeepLimit) return ::ftruncate(fd, 0) == 0;
    // Whole blocks: a partial block would be zeroed through the page cache
    // (a write); the zeros past the end are never read.
    const off_t block = st.st_blksize > 0 && st.st_blksize <= 65536 ? st.st_blksize : 4096;
    const off_t length = (st.st_size + block - 1) / block * block;
    if (::fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, length) == 0) return true;
    return ::ftruncate(fd, 0) == 0;
}

}  // namespace

bool recycle_queue_file(const std::string& path, const std::string& pool_dir, std::string_view name) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return false;
    struct stat st {};
    // Mode first: from here on the file is never "ready" again, whatever
    // a crash keeps (see the header comment).
    bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
              ::fchmod(fd, kModePooled) == 0 && empty_file(fd, st);
    ::close(fd);
    if (!ok) return false;
    std::string pooled = pool_dir;
    pooled += '/';
    pooled += name;
    return ::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, pooled.c_str(), RENAME_NOREPLACE) == 0;
}

int take_pooled_file(const std::string& pool_dir, const std::string& temp, struct stat& st) {
    PoolCursor& c = cursor();
    if (c.dir != pool_dir) {
        c = PoolCursor{};
        c.dir = pool_dir;
    }
    int refills = 0;
    for (int attempt = 0; attempt < kTries; ++attempt) {
        if (c.next >= c.names.size()) {
            if (++refills > kRefills) return -1;
            if (c.quiet_until != 0 && monotonic_ms() < c.quiet_until) return -1;
            refill(c);
            if (c.names.empty()) {
                c.quiet_until = monotonic_ms() + kQuietMs;
                return -1;
            }
            c.quiet_until = 0;
        }
        std::string pooled = pool_dir + "/" + c.names[c.next++];
        if (::renameat2(AT_FDCWD, pooled.c_str(), AT_FDCWD, temp.c_str(), RENAME_NOREPLACE) != 0) {
            if (errno != ENOENT) return -1;
            // Another process took it: the rest of a list read earlier is
            // likely gone too, so read the directory again.
            c.next = c.names.size();
            continue;
        }
        int fd = ::open(temp.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) {
            (void)::unlink(temp.c_str());
            continue;
        }
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != ::geteuid()) {
            ::close(fd);
            (void)::unlink(temp.c_str());
            continue;
        }
        // Not emptied by recycle_queue_file: its content may be anything.
        if ((st.st_mode & 07777) != kModePooled) {
            if ((st.st_size != 0 && ::ftruncate(fd, 0) != 0) || ::fchmod(fd, kModePooled) != 0) {
                ::close(fd);
                (void)::unlink(temp.c_str());
                continue;
            }
            st.st_size = 0;
        }
        return fd;
    }
    return -1;
}

std::size_t count_pooled_files(const std::string& pool_dir) {
    DIR* d = ::opendir(pool_dir.c_str());
    if (d == nullptr) return 0;
    std::size_t count = 0;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ++count;
    ::closedir(d);
    return count;
}

}  // namespace pf::queue
