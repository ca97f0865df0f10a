// Queue directory scans and queue file moves; see qmgr_scan.h.
#include "daemon/qmgr/qmgr_scan.h"

#include "daemon/qmgr/qmgr_scheduler.h"
#include "util/msg.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::qmgr {

namespace {

void list_dir(const std::string& dir, int depth, std::deque<std::string>& out) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
    if (!d) {
        if (errno != ENOENT) util::msg_warn("open directory {}: {}", dir, std::strerror(errno));
        return;
    }
    while (struct dirent* e = readdir(d.get())) {
        std::string_view name = e->d_name;
        if (name.empty() || name[0] == '.') continue;
        // Hash directories have one-character names (the reference relies
        // on that too, instead of a stat() per file).
        if (name.size() == 1) {
            if (depth < 16) list_dir(dir + "/" + std::string(name), depth + 1, out);
            continue;
        }
        out.emplace_back(name);
    }
}

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

}  // namespace

std::deque<std::string> list_queue(const QueuePaths& paths, std::string_view queue) {
    std::deque<std::string> out;
    list_dir(paths.dir(queue), 0, out);
    return out;
}

void QueueScan::start(const QueuePaths& paths) {
    flags_ = nflags_;
    nflags_ = 0;
    running_ = true;
    names_ = list_queue(paths, queue_);
}

void QueueScan::request(const QueuePaths& paths, unsigned flags) {
    if (running_) flags_ |= flags & (kScanAll | kFlushDfxp);
    nflags_ |= flags;
    if (!running_ && (flags & kScanStart) != 0) {
        nflags_ &= ~kScanStart;
        start(paths);
    }
}

std::string QueueScan::next(const QueuePaths& paths) {
    if (running_ && names_.empty()) {
        running_ = false;
        names_.clear();
    }
    if (!running_ && (nflags_ & kScanStart) != 0) {
        nflags_ &= ~kScanStart;
        start(paths);
    }
    if (!running_ || names_.empty()) return {};
    std::string name = std::move(names_.front());
    names_.pop_front();
    return name;
}

bool queue_file_ok(const QueuePaths& paths, std::string_view queue, std::string_view id, struct stat& st) {
    if (!queue::is_queue_id(id)) return false;
    std::string path = paths.path(queue, id);
    if (lstat(path.c_str(), &st) < 0) {
        if (errno != ENOENT) util::msg_warn("{}: {}", path, std::strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        util::msg_warn("{}: uid {}: not a regular file", path, static_cast<long>(st.st_uid));
        return false;
    }
    if ((st.st_mode & S_IRWXU) != queue::kModeReady) return false;
    if (st.st_nlink > 1 && st.st_ctime < std::time(nullptr) - 60)
        util::msg_warn("{}: uid {}: file has {} links", path, static_cast<long>(st.st_uid),
                       static_cast<int>(st.st_nlink));
    return true;
}

int move_queue_file(const QueuePaths& paths, std::string_view id, std::string_view from,
                    std::string_view to) {
    std::string old_path = paths.path(from, id);
    std::string new_path = paths.path(to, id);
    if (std::rename(old_path.c_str(), new_path.c_str()) == 0) return 0;
    if (errno != ENOENT || access(old_path.c_str(), F_OK) != 0) return errno;
    // The target's hash directory may be missing: make it and try again.
    std::string dir = dir_of(new_path);
    std::string base = paths.dir(to);
    for (std::size_t pos = base.size(); pos != std::string::npos && pos < dir.size(); pos = dir.find('/', pos + 1))
        if (pos > base.size()) mkdir(dir.substr(0, pos).c_str(), 0700);
    mkdir(dir.c_str(), 0700);
    if (std::rename(old_path.c_str(), new_path.c_str()) == 0) return 0;
    return errno;
}

int remove_queue_file(const QueuePaths& paths, std::string_view queue, std::string_view id) {
    std::string path = paths.path(queue, id);
    return unlink(path.c_str()) == 0 ? 0 : errno;
}

}  // namespace pf::qmgr
