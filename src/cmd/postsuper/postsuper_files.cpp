// postsuper(1): the queue table and the file primitives every operation
// uses. As the reference 3.7.11: a remove, rename or rmdir that fails for
// any reason but "no such file" is fatal (postsuper must not carry on with
// a half-understood queue); "no such file" means another process (qmgr,
// cleanup) got there first and is not an error. A rename into a missing
// hash directory makes the directory and tries again. Forced expiration
// only adds the group-execute bit to a ready (0700) regular file with one
// link, opened without following symbolic links.
//
// Trust: paths are built from checked queue names and IDs, relative to the
// queue directory; the files themselves may be anything (symlinks, FIFOs,
// hard links planted in a writable maildrop), so nothing is opened except
// by post_expire, which refuses all of those.
#include "cmd/postsuper/postsuper.h"

#include "util/msg.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace pf::postsuper {
namespace {

constexpr std::array<QueueInfo, 9> kQueueInfo = {{
    {queue::kMaildrop, queue::kModeReady, false},
    {queue::kIncoming, queue::kModeReady, true},
    {queue::kActive, queue::kModeReady, true},
    {queue::kDeferred, queue::kModeReady, true},
    {queue::kHold, queue::kModeReady, true},
    {queue::kTraceLog, 0600, true},
    {queue::kDeferLog, 0600, true},
    {queue::kBounceLog, 0600, true},
    {queue::kFlushLog, 0600, true},
}};

// remove(3) on a name relative to dir_fd: unlink, or rmdir for a directory.
int remove_at(int dir_fd, const char* name) {
    if (::unlinkat(dir_fd, name, 0) == 0) return 0;
    if (errno != EISDIR) return -1;
    return ::unlinkat(dir_fd, name, AT_REMOVEDIR);
}

}  // namespace

const QueueInfo& find_queue_info(std::string_view name) {
    for (const auto& info : kQueueInfo)
        if (info.name == name) return info;
    util::msg_fatal("invalid directory name: {}", name);
}

const std::vector<std::string>& default_queues() {
    static const std::vector<std::string> queues = {
        std::string(queue::kDeferLog), std::string(queue::kBounceLog), std::string(queue::kMaildrop),
        std::string(queue::kIncoming), std::string(queue::kActive),    std::string(queue::kDeferred),
        std::string(queue::kHold),     std::string(queue::kFlushLog)};
    return queues;
}

int post_remove_at(int dir_fd, const char* name, const std::string& path) {
    if (remove_at(dir_fd, name) < 0) {
        if (errno != ENOENT) util::msg_fatal("remove file {}: {}", path, std::strerror(errno));
        return -1;
    }
    if (util::msg_verbose) util::msg_info("removed file {}", path);
    return 0;
}

int post_remove(const std::string& path) { return post_remove_at(AT_FDCWD, path.c_str(), path); }

int make_parent_dirs(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) util::msg_panic("mail_queue_mkdirs: no slash in: {}", path);
    std::string dir = path.substr(0, slash);
    for (std::size_t pos = 0; pos != std::string::npos;) {
        pos = dir.find('/', pos + 1);
        std::string part = dir.substr(0, pos);
        if (part.empty()) continue;
        if (::mkdir(part.c_str(), 0700) == 0) continue;
        if (errno != EEXIST) return -1;
        struct stat st;
        if (::stat(part.c_str(), &st) < 0) return -1;
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
    }
    return 0;
}

int post_rename_at(int dir_fd, const char* name, const std::string& from, const std::string& to) {
    if (::renameat(dir_fd, name, AT_FDCWD, to.c_str()) == 0) {
        if (util::msg_verbose) util::msg_info("renamed file {} as {}", from, to);
        return 0;
    }
    if (errno != ENOENT || make_parent_dirs(to) < 0 || ::renameat(dir_fd, name, AT_FDCWD, to.c_str()) < 0) {
        if (errno != ENOENT) util::msg_fatal("rename file {} as {}: {}", from, to, std::strerror(errno));
        return -1;
    }
    return 0;
}

int post_rename(const std::string& from, const std::string& to) {
    return post_rename_at(AT_FDCWD, from.c_str(), from, to);
}

int post_rmdir(const std::string& path) {
    if (::rmdir(path.c_str()) < 0) {
        if (errno != ENOENT) util::msg_fatal("remove directory {}: {}", path, std::strerror(errno));
        return -1;
    }
    if (util::msg_verbose) util::msg_info("remove directory {}", path);
    return 0;
}

int post_expire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP) util::msg_warn("expire file {}: file is a symbolic link", path);
        else if (errno != ENOENT) util::msg_warn("expire file {}: cannot open file: {}", path, std::strerror(errno));
        return -1;
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st;
    if (::fstat(fd, &st) < 0) {
        util::msg_warn("expire file {}: cannot fstat file: {}", path, std::strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        util::msg_warn("expire file {}: file is not a regular file", path);
        return -1;
    }
    if (st.st_nlink != 1) {
        util::msg_warn("expire file {}: file has {} hard links", path, static_cast<long>(st.st_nlink));
        return -1;
    }
    if ((st.st_mode & S_IRWXU) != queue::kModeReady) return -1;  // not ready: must not expire
    if ((st.st_mode & kModeExpire) != 0) return -1;               // already expired
    if (::fchmod(fd, (st.st_mode | kModeExpire) & ~S_IFMT) < 0) {
        util::msg_warn("expire file {}: cannot set permission: {}", path, std::strerror(errno));
        return -1;
    }
    return 0;
}

bool mail_open_ok(const Context& ctx, std::string_view queue_name, std::string_view id, struct stat& st,
                  std::string& path_out) {
    if (!queue::is_queue_id(id)) return false;
    path_out = ctx.path(queue_name, id);
    if (::lstat(path_out.c_str(), &st) < 0) {
        if (errno != ENOENT) util::msg_warn("{}: {}", path_out, std::strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        util::msg_warn("{}: uid {}: not a regular file", path_out, static_cast<long>(st.st_uid));
        return false;
    }
    if ((st.st_mode & S_IRWXU) != queue::kModeReady) return false;
    // A file seen between the two names of a rename has two links for a
    // moment; only a lasting condition is worth a warning.
    if (st.st_nlink > 1) {
        if (util::msg_verbose)
            util::msg_info("{}: uid {}: file has {} links", path_out, static_cast<long>(st.st_uid),
                           static_cast<int>(st.st_nlink));
        else if (st.st_ctime < std::time(nullptr) - 60)
            util::msg_warn("{}: uid {}: file has {} links", path_out, static_cast<long>(st.st_uid),
                           static_cast<int>(st.st_nlink));
    }
    return true;
}

}  // namespace pf::postsuper
