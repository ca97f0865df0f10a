// postsuper(1): one pass over whole queue directories, for the "ALL" forms
// of -d -e -f -h -H -r and for the repairs (-p, -s, -S, and the default
// when no operation is named). Reproduces the reference 3.7.11's pass
// entry by entry, in directory order:
//   - single-character entries of a hashable queue are entered as hash
//     directories; a hash level deeper than the queue should have is
//     removed once emptied; any other directory is removed if empty;
//   - -d ALL removes every entry, counting ready files of message queues;
//   - non-regular files are removed; with -p, so are files of message
//     queues that are not ready and older than seven days;
//   - -s: a "<id>#FIX" name left by an earlier pass loses its suffix;
//     a name that is no queue ID is reported ("bogus file name"); a
//     message file whose name does not match its inode (short names; long
//     names with -S, or when long IDs are off) is renamed "<new id>#FIX"
//     with its log files, for a second pass; a file in the wrong hash
//     directory is moved to the right one;
//   - -r ALL moves message files to maildrop, -h ALL to hold, -H ALL from
//     hold to deferred, -e/-f ALL set the expire bit of ready files.
// Directories are read with readdir(3) while entries move, as the
// reference does, so both give the same result on the same queue. -d ALL
// leaves the freeing of unlinked files to a ReleasePool (worker threads);
// what is removed, when, and what is counted and logged stays here.
//
// Trust: directory entries are arbitrary names; the queue directory tree
// belongs to mail_owner, whose privileges we run with.
#include "cmd/postsuper/postsuper.h"
#include "cmd/postsuper/postsuper_release_pool.h"

#include "util/msg.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <optional>
#include <string_view>
#include <unistd.h>
#include <utility>

namespace pf::postsuper {
namespace {

constexpr std::string_view kFixSuffix = "#FIX";

// One open directory of the walk, closed by its destructor.
struct OpenDir {
    std::string path;
    DIR* dir = nullptr;
    OpenDir(std::string p) : path(std::move(p)) {
        dir = ::opendir(path.c_str());
        if (dir == nullptr) util::msg_fatal("scan_dir_push: open directory {}: {}", path, std::strerror(errno));
        if (util::msg_verbose > 1) util::msg_info("scan_dir_push: open {}", path);
    }
    OpenDir(const OpenDir&) = delete;
    OpenDir(OpenDir&& other) noexcept : path(std::move(other.path)), dir(other.dir) { other.dir = nullptr; }
    ~OpenDir() {
        if (dir == nullptr) return;
        if (::closedir(dir) != 0) util::msg_fatal("scan_dir_pop: close directory {}: {}", path, std::strerror(errno));
        if (util::msg_verbose > 1) util::msg_info("scan_dir_pop: close {}", path);
    }
    // The next entry other than "." and "..", or nullptr.
    const char* next() {
        while (dirent* entry = ::readdir(dir)) {
            const char* name = entry->d_name;
            if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
            if (util::msg_verbose > 1) util::msg_info("scan_dir_next: found {}", name);
            return name;
        }
        return nullptr;
    }
    int fd() const { return ::dirfd(dir); }
};

// Renames a misnamed message file and its logs to "<new id>#FIX" names:
// logs first, so an interrupted run can be finished by the next one.
int fix_queue_id(Context& ctx, const std::string& actual_path, std::string_view queue_name, const std::string& id,
                 const struct stat& st) {
    std::string new_id = name_for_inode(id, static_cast<unsigned long>(st.st_ino), ctx.layout.long_ids);
    for (auto log : kLogQueues)
        post_rename(ctx.path(log, id), ctx.path(log, new_id) + std::string(kFixSuffix));
    return post_rename(actual_path, ctx.path(queue_name, new_id) + std::string(kFixSuffix));
}

int wanted_depth_of(const Context& ctx, std::string_view queue_name) {
    for (const auto& name : ctx.layout.hashed)
        if (name == queue_name) return ctx.layout.hash_depth;
    return 0;
}

// A descriptor closed at the end of the loop iteration unless taken.
struct HeldFd {
    int fd = -1;
    HeldFd() = default;
    HeldFd(const HeldFd&) = delete;
    HeldFd& operator=(const HeldFd&) = delete;
    ~HeldFd() { reset(); }
    void reset() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    int take() { return std::exchange(fd, -1); }
};

void scan_one_queue(Context& ctx, const std::string& queue_name, unsigned action, ReleasePool* pool) {
    if (util::msg_verbose) util::msg_info("queue: {}", queue_name);
    const QueueInfo& qp = find_queue_info(queue_name);
    const int wanted_depth = wanted_depth_of(ctx, queue_name);
    if (wanted_depth > 0 && !qp.recurse) util::msg_fatal("{} queue must not be hashed", queue_name);
    const bool message_queue = qp.message_queue();
    const bool is_maildrop = queue_name == queue::kMaildrop;
    const bool is_hold = queue_name == queue::kHold;

    std::vector<OpenDir> stack;
    stack.emplace_back(queue_name);
    std::string actual_path;
    std::string wanted_path;
    std::string name;
    for (;;) {
        OpenDir& here = stack.back();
        const char* entry = here.next();
        if (entry == nullptr) {
            const int actual_depth = static_cast<int>(stack.size()) - 1;
            if (actual_depth == 0) break;
            if (actual_depth > wanted_depth) post_rmdir(here.path);
            stack.pop_back();
            continue;
        }
        name.assign(entry);
        if (name.size() == 1 && qp.recurse) {
            std::string sub = here.path + "/" + name;
            stack.emplace_back(std::move(sub));
            continue;
        }
        actual_path.assign(here.path).append("/").append(name);
        struct stat st;
        // With an engaged release pool (-d ALL, slow unlinks), the entry is
        // looked at through an O_PATH descriptor that outlives the unlink,
        // so that the file is freed when the pool closes it, not inside the
        // unlink.
        HeldFd held;
        if (pool != nullptr && pool->engaged()) {
            held.fd = ::openat(here.fd(), entry, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (held.fd < 0 && errno == ENOENT) continue;
            if (held.fd >= 0 && ::fstat(held.fd, &st) < 0) held.reset();
        }
        if (held.fd < 0 && ::fstatat(here.fd(), entry, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;

        // A directory that is no hash level: remove it if it is empty. A
        // compromised maildrop must not stop us, so this is only a warning.
        if (S_ISDIR(st.st_mode)) {
            if (::unlinkat(here.fd(), entry, AT_REMOVEDIR) < 0) {
                if (errno != ENOENT) util::msg_warn("remove subdirectory {}: {}", actual_path, std::strerror(errno));
            } else if (util::msg_verbose) {
                util::msg_info("remove subdirectory {}", actual_path);
            }
            continue;
        }

        // Mass deletion counts the mail this system took responsibility for.
        if (action & kDeleteAll) {
            const long before = pool != nullptr && held.fd < 0 ? ReleasePool::now_ns() : 0;
            const int removed = post_remove_at(here.fd(), entry, actual_path);
            if (held.fd >= 0) pool->release(held.take());
            else if (pool != nullptr) pool->observe(ReleasePool::now_ns() - before);
            if (removed == 0 && message_queue && (st.st_mode & S_IRWXU) == queue::kModeReady)
                ++ctx.counters.deleted;
            continue;
        }

        // Non-files, and stale temporary files (never old logs).
        if (!S_ISREG(st.st_mode) || ((action & kPurge) && message_queue &&
                                     (st.st_mode & S_IRWXU) != queue::kModeReady &&
                                     ctx.now > static_cast<long>(st.st_mtime) + kMaxTempAge)) {
            post_remove_at(here.fd(), entry, actual_path);
            continue;
        }

        // "<id>#FIX" from an earlier pass: strip the suffix and move the
        // file to where its name belongs, if the name now matches.
        bool renamed = false;
        if ((action & kStruct) && name.size() >= kFixSuffix.size() && name.ends_with(kFixSuffix)) {
            name.resize(name.size() - kFixSuffix.size());
            if (!queue::is_queue_id(name)) {
                util::msg_warn("bogus file name: {}", actual_path);
                continue;
            }
            if (message_queue) {
                InodeOfName inum = inode_of_name(name);
                if (inum.error) {
                    util::msg_warn("bogus file name: {}", actual_path);
                    continue;
                }
                if (inum.inode != static_cast<unsigned long>(st.st_ino)) {
                    util::msg_warn("name/inode mismatch: {}", actual_path);
                    continue;
                }
            }
            wanted_path = ctx.path(queue_name, name);
            if (post_rename_at(here.fd(), entry, actual_path, wanted_path) < 0) continue;
            if (message_queue) ++ctx.counters.inode_fixed;
            actual_path = wanted_path;
            renamed = true;
        }
        // From here on the entry is known by actual_path only when renamed.
        const int from_fd = renamed ? AT_FDCWD : here.fd();
        const char* from_name = renamed ? actual_path.c_str() : entry;

        if (!queue::is_queue_id(name)) {
            util::msg_warn("bogus file name: {}", actual_path);
            continue;
        }

        // Names that do not match the inode: renamed now, finished by the
        // second pass. Long names are unique by design and are left alone
        // unless -S, or unless long names are turned off.
        if ((action & kStruct) && message_queue) {
            InodeOfName inum = inode_of_name(name);
            if (inum.error) {
                util::msg_warn("bogus file name: {}", actual_path);
                continue;
            }
            if ((inum.long_form && !ctx.layout.long_ids) ||
                (inum.inode != static_cast<unsigned long>(st.st_ino) &&
                 (!inum.long_form || (action & kStructRed)))) {
                ++ctx.counters.inode_mismatch;
                action &= ~kActionsByWildcard;
                fix_queue_id(ctx, actual_path, queue_name, name, st);
                continue;
            }
        }

        // Mass requeue: pickup copies the file to a new queue file, so
        // that address rewriting is applied again. Logs stay.
        if ((action & kRequeueAll) && message_queue && !is_maildrop) {
            wanted_path = ctx.path(queue::kMaildrop, name);
            if (post_rename_at(from_fd, from_name, actual_path, wanted_path) == 0) ++ctx.counters.requeued;
            continue;
        }

        if ((action & (kExpireAll | kExpRelAll)) && message_queue &&
            (st.st_mode & S_IRWXU) == queue::kModeReady && !is_maildrop && post_expire(actual_path) == 0)
            ++ctx.counters.expired;

        // Mass hold: never maildrop files, which cleanup has not seen.
        if ((action & kHoldAll) && message_queue && !is_maildrop && !is_hold) {
            wanted_path = ctx.path(queue::kHold, name);
            if (post_rename_at(from_fd, from_name, actual_path, wanted_path) == 0) ++ctx.counters.held;
            continue;
        }

        if ((action & (kReleaseAll | kExpRelAll)) && is_hold) {
            wanted_path = ctx.path(queue::kDeferred, name);
            if (post_rename_at(from_fd, from_name, actual_path, wanted_path) == 0) ++ctx.counters.released;
            continue;
        }

        // The right hash directory (after a change of hash_queue_names or
        // hash_queue_depth); log directories are scanned first, so logs
        // are in place before message files are renamed.
        if (action & kStruct) {
            wanted_path = ctx.path(queue_name, name);
            if (actual_path != wanted_path) {
                ++ctx.counters.position_mismatch;
                post_rename_at(from_fd, from_name, actual_path, wanted_path);
                continue;
            }
        }
    }
}

}  // namespace

void scan_queues(Context& ctx, const std::vector<std::string>& queues, unsigned action) {
    if (action & kPurge) ctx.now = static_cast<long>(std::time(nullptr));
    // -d ALL frees the unlinked files on worker threads; every file is
    // freed before this returns.
    std::optional<ReleasePool> pool;
    if (action & kDeleteAll) pool.emplace();
    for (const auto& queue_name : queues) scan_one_queue(ctx, queue_name, action, pool ? &*pool : nullptr);
    if (pool) pool->drain();
}

}  // namespace pf::postsuper
