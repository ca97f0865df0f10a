// The fast-flush log files and the queue-file moves of flush(8); see
// flush_logs.h for the behaviour and the trust placed in names.
#include "daemon/flush/flush_logs.h"

#include "util/msg.h"
#include "util/unique_fd.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace pf::flush {

using util::msg_fatal;
using util::msg_info;
using util::msg_warn;

namespace {

// How many queue IDs one send remembers to skip duplicates; past this the
// rest are handled without filtering (the reference's graceful limit).
constexpr std::size_t kDuplicateFilterSize = 10000;

using Fd = util::UniqueFd;

std::string errtext(int err) { return std::strerror(err); }

// Makes the missing directories of path's parent (hash subdirectories).
void make_parent_dirs(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return;
    std::string dir = path.substr(0, slash);
    for (auto pos = dir.find('/', 1); pos != std::string::npos; pos = dir.find('/', pos + 1))
        ::mkdir(dir.substr(0, pos).c_str(), 0700);
    ::mkdir(dir.c_str(), 0700);
}

bool is_alnum(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

std::string site_to_name(std::string_view site) {
    std::string name;
    name.reserve(site.size());
    for (unsigned char c : site) name.push_back(is_alnum(c) ? static_cast<char>(c) : '_');
    if (util::msg_verbose) msg_info("site {} to path {}", site, name);
    return name;
}

FlushLogs::FlushLogs(queue::QueueLayout layout, bool relative, Trigger trigger, Clock clock)
    : layout_(std::move(layout)), relative_(relative), trigger_(std::move(trigger)), clock_(std::move(clock)) {}

ipc::FlushStatus FlushLogs::add(std::string_view name, std::string_view queue_id) {
    if (!queue::is_queue_id(name) || !queue::is_queue_id(queue_id)) return ipc::FlushStatus::kBad;
    std::string path = log_path(name);
    int raw = ::open(path.c_str(), O_CREAT | O_APPEND | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0 && errno == ENOENT) {
        make_parent_dirs(path);
        raw = ::open(path.c_str(), O_CREAT | O_APPEND | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    }
    if (raw < 0) msg_fatal("flush_add_path: open fast flush logfile {}: {}", name, errtext(errno));
    Fd fd(raw);
    if (::flock(fd.get(), LOCK_EX) < 0) msg_fatal("flush_add_path: lock fast flush logfile {}: {}", name, errtext(errno));
    std::string line = std::string(queue_id) + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(fd.get(), line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            msg_warn("write fast flush logfile {}: {}", name, errtext(n < 0 ? errno : EIO));
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::flock(fd.get(), LOCK_UN) < 0) msg_fatal("flush_add_path: unlock fast flush logfile {}: {}", name, errtext(errno));
    if (fd.close() < 0) msg_warn("write fast flush logfile {}: {}", name, errtext(errno));
    return ipc::FlushStatus::kOk;
}

int FlushLogs::move_to_incoming(std::string_view queue_id) {
    std::string from = path(queue::kDeferred, queue_id);
    std::string to = path(queue::kIncoming, queue_id);
    if (std::rename(from.c_str(), to.c_str()) == 0) return 0;
    if (errno != ENOENT || ::access(from.c_str(), F_OK) != 0) return errno;
    make_parent_dirs(to);
    return std::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

bool FlushLogs::one_file(std::string_view queue_id, std::time_t now, unsigned how) {
    // Another flush process may have moved the file to incoming/ already.
    std::string_view queue = queue::kDeferred;
    std::string file;
    const struct timespec times[2] = {{now, 0}, {now, 0}};
    for (;;) {
        file = path(queue, queue_id);
        if (::utimensat(AT_FDCWD, file.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0) break;
        if (errno != ENOENT) msg_warn("flush_one_file: update {} time stamps: {}", file, errtext(errno));
        if (queue == queue::kIncoming) return false;
        queue = queue::kIncoming;
    }
    if (how & kUnthrottleAfter) {
        int raw;
        for (;;) {
            raw = ::open(file.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            if (raw >= 0) break;
            int err = errno;
            if (err != ENOENT) msg_warn("flush_one_file: open {}: {}", file, errtext(err));
            if (err != ENOENT || queue == queue::kIncoming) return false;
            queue = queue::kIncoming;
            file = path(queue, queue_id);
        }
        Fd fd(raw);
        struct stat st;
        if (::fstat(fd.get(), &st) < 0) {
            msg_warn("flush_one_file: fstat {}: {}", file, errtext(errno));
            return false;
        }
        if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
            msg_warn("flush_one_file: open {}: not a regular file", file);
            return false;
        }
        if ((st.st_mode & S_IRWXU) != queue::kModeReady) return false;
        if (::fchmod(fd.get(), (st.st_mode & 07777) | kModeUnthrottle) < 0)
            msg_warn("flush_one_file: fchmod {}: {}", file, errtext(errno));
    }
    if (queue != queue::kIncoming) {
        if (int err = move_to_incoming(queue_id); err != 0 && err != ENOENT)
            msg_warn("{}: rename from {} to {}: {}", file, queue::kDeferred, queue::kIncoming, errtext(err));
    }
    return true;
}

ipc::FlushStatus FlushLogs::send(std::string_view name, unsigned how) {
    if (!queue::is_queue_id(name)) return ipc::FlushStatus::kBad;
    std::string path = log_path(name);
    int raw = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (raw < 0) {
        if (errno != ENOENT) msg_fatal("flush_send_path: open fast flush logfile {}: {}", name, errtext(errno));
        return ipc::FlushStatus::kOk;
    }
    Fd fd(raw);
    if (::flock(fd.get(), LOCK_EX) < 0) msg_fatal("flush_send_path: lock fast flush logfile {}: {}", name, errtext(errno));
    if (how & kUnthrottleBefore) trigger_("F");

    // The whole log: it holds one short line per deferral, and a send
    // empties it.
    std::string data;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            msg_warn("flush_send_path: read fast flush logfile {}: {}", name, errtext(errno));
            break;
        }
        if (n == 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    std::unordered_set<std::string> seen;
    std::time_t stamp = now();
    long count = 0;  // lines read: any line means the log is emptied
    std::size_t pos = 0;
    while (pos < data.size()) {
        auto end = data.find('\n', pos);
        if (end == std::string::npos) end = data.size();
        std::string_view id(data.data() + pos, end - pos);
        pos = end + 1;
        count++;
        if (!queue::is_queue_id(id)) {
            msg_warn("bad queue id \"{}...\" in fast flush logfile {}", id.substr(0, 30), name);
            continue;
        }
        if (seen.size() >= kDuplicateFilterSize || !seen.contains(std::string(id))) {
            if (util::msg_verbose) msg_info("flush_send_path: logfile {}: update queue file {} time stamps", name, id);
            if (seen.size() < kDuplicateFilterSize) seen.emplace(id);
            one_file(id, stamp, how);
        } else if (util::msg_verbose) {
            msg_info("flush_send_path: logfile {}: skip queue file {} as duplicate", name, id);
        }
    }
    if (count > 0 && ::ftruncate(fd.get(), 0) < 0)
        msg_fatal("flush_send_path: truncate fast flush logfile {}: {}", name, errtext(errno));
    // Reading is what a refresh looks at: set the time stamps even where
    // the file system does not keep access times.
    ::futimens(fd.get(), nullptr);
    if (::flock(fd.get(), LOCK_UN) < 0)
        msg_fatal("flush_send_path: unlock fast flush logfile {}: {}", name, errtext(errno));
    if (fd.close() < 0) msg_warn("flush_send_path: read fast flush logfile {}: {}", name, errtext(errno));
    if (count > 0) {
        if (util::msg_verbose) msg_info("flush_send_path: requesting delivery for logfile {}", name);
        trigger_("I");
    }
    return ipc::FlushStatus::kOk;
}

ipc::FlushStatus FlushLogs::send_file(std::string_view queue_id) {
    if (!queue::is_queue_id(queue_id)) return ipc::FlushStatus::kBad;
    if (util::msg_verbose) msg_info("flush_send_file_service: requesting delivery for queue_id {}", queue_id);
    if (one_file(queue_id, now(), kUnthrottleAfter)) trigger_("I");
    return ipc::FlushStatus::kOk;
}

namespace {

// The names in the flush directory, descending into one-character hash
// subdirectories as the queue scanners do.
void list_logs(const std::string& dir, int depth, std::vector<std::string>& out) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) {
        if (depth == 0) msg_fatal("open directory {}: {}", dir, errtext(errno));
        return;
    }
    while (struct dirent* e = ::readdir(d.get())) {
        std::string_view name = e->d_name;
        if (name.empty() || name[0] == '.') continue;
        if (name.size() == 1 && depth < 16) {
            struct stat st;
            std::string sub = dir + "/" + std::string(name);
            if (::lstat(sub.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
                list_logs(sub, depth + 1, out);
                continue;
            }
        }
        out.emplace_back(name);
    }
}

}  // namespace

void FlushLogs::refresh(long max_age, long purge_time) {
    std::string dir = relative_ ? std::string(queue::kFlushLog)
                                : layout_.queue_directory + "/" + std::string(queue::kFlushLog);
    std::vector<std::string> names;
    list_logs(dir, 0, names);
    std::time_t stamp = now();
    for (const auto& name : names) {
        if (!queue::is_queue_id(name)) continue;
        std::string path = log_path(name);
        struct stat st;
        if (::stat(path.c_str(), &st) < 0) {
            if (errno != ENOENT)
                msg_warn("flush_refresh_service: stat {}: {}", path, errtext(errno));
            else if (util::msg_verbose)
                msg_info("flush_refresh_service: {}: {}", path, errtext(errno));
            continue;
        }
        if (st.st_size == 0) {
            if (st.st_mtime + purge_time < stamp) {
                if (::unlink(path.c_str()) < 0)
                    msg_warn("remove logfile {}: {}", path, errtext(errno));
                else if (util::msg_verbose)
                    msg_info("flush_refresh_service: unlink {}, empty and unchanged for {} days", path,
                             purge_time / 86400);
            } else if (util::msg_verbose) {
                msg_info("flush_refresh_service: skip logfile {} - empty log", name);
            }
        } else if (st.st_atime + max_age < stamp) {
            if (util::msg_verbose) msg_info("flush_refresh_service: flush logfile {}", name);
            send(name, kRefreshOnly);
        } else if (util::msg_verbose) {
            msg_info("flush_refresh_service: skip logfile {}, unread for <{} hours(s) ", name, max_age / 3600);
        }
    }
}

}  // namespace pf::flush
