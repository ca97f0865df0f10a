// postfix(1) start-up checks and the queue tree, with the reference's
// owners, modes and warning texts (postfix-files, post-install
// create-missing / set-permissions, postfix-script check-fatal and
// check-warn as observed on 3.7.11):
//   queue_directory root 0755; active bounce corrupt defer deferred flush
//   hold incoming private saved trace: mail_owner 0700; maildrop
//   mail_owner:setgid_group 0730; public mail_owner:setgid_group 0710;
//   pid root 0755; data_directory mail_owner 0700; postdrop and postqueue
//   root:setgid_group 02755.
// Warnings: "not owned by root: <path>", "group or other writable: <path>",
// "not owned by <mail_owner>: <path>", "not owned by group <group>: <path>",
// "not set-gid or not owner+group+world executable: <path>",
// "symlink leaves directory: <path>", "damaged message: corrupt/<file>".
//
// Trust: the tree may hold anything; symlinks are never followed when
// changing owners or modes.
#include "cmd/postfix/postfix_script.h"

#include "config/master_cf.h"
#include "queue/queue_file_pool.h"
#include "util/msg.h"
#include "util/privileges.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <set>

namespace pf::postfix_cmd {

using util::msg_warn;

namespace {

struct DirSpec {
    std::string path;
    bool owner_is_mail_owner;
    bool group_is_setgid;
    mode_t mode;
};

std::vector<DirSpec> queue_dirs(const Context& ctx) {
    const std::string& q = ctx.queue_directory;
    std::vector<DirSpec> dirs = {
        {ctx.data_directory, true, false, 0700},
        {q, false, false, 0755},
    };
    for (const char* name : {"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming"})
        dirs.push_back({q + "/" + name, true, false, 0700});
    dirs.push_back({q + "/private", true, false, 0700});
    dirs.push_back({q + "/maildrop", true, true, 0730});
    dirs.push_back({q + "/public", true, true, 0710});
    dirs.push_back({q + "/pid", false, false, 0755});
    dirs.push_back({q + "/saved", true, false, 0700});
    dirs.push_back({q + "/trace", true, false, 0700});
    // Ours only: the pool of emptied queue files (queue/queue_file_pool.h).
    dirs.push_back({q + "/" + std::string(queue::kRecycle), true, false, 0700});
    return dirs;
}

struct Ids {
    uid_t owner_uid = 0;
    gid_t owner_gid = 0;
    gid_t setgid_gid = 0;
};

Ids lookup_ids(const Context& ctx) {
    Ids ids;
    auto owner = util::lookup_account(ctx.mail_owner);
    if (!owner) util::msg_fatal("unknown user name value: {}", ctx.mail_owner);
    ids.owner_uid = owner->uid;
    ids.owner_gid = owner->gid;
    auto group = util::lookup_group(ctx.setgid_group);
    if (!group) util::msg_fatal("unknown group name value: {}", ctx.setgid_group);
    ids.setgid_gid = *group;
    return ids;
}

// The owner and group a spec asks for; "-" group is root's (0).
void apply(const DirSpec& d, const Ids& ids) {
    uid_t uid = d.owner_is_mail_owner ? ids.owner_uid : 0;
    gid_t gid = d.group_is_setgid ? ids.setgid_gid : 0;
    if (::lchown(d.path.c_str(), uid, gid) < 0) msg_warn("chown {}: {}", d.path, std::strerror(errno));
    if (::chmod(d.path.c_str(), d.mode) < 0) msg_warn("chmod {}: {}", d.path, std::strerror(errno));
}

// find(1)-like walk: the start itself, then everything below in directory
// order. follow: stat through symlinks (find -L).
void walk(const std::string& path, bool follow, const std::function<void(const std::string&, const struct stat&)>& fn,
          int depth = 0) {
    struct stat st {};
    if ((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) < 0) return;
    fn(path, st);
    if (!S_ISDIR(st.st_mode) || depth > 64) return;
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    for (const auto& n : names) walk(path + "/" + n, follow, fn, depth + 1);
}

bool writable_by_others(const struct stat& st) { return (st.st_mode & (S_IWGRP | S_IWOTH)) != 0; }

}  // namespace

bool create_missing(Context& ctx) {
    Ids ids = lookup_ids(ctx);
    bool ok = true;
    for (const auto& d : queue_dirs(ctx)) {
        struct stat st {};
        if (::lstat(d.path.c_str(), &st) == 0) continue;
        if (::mkdir(d.path.c_str(), d.mode) < 0) {
            msg_warn("mkdir {}: {}", d.path, std::strerror(errno));
            ok = false;
            continue;
        }
        apply(d, ids);
    }
    return ok;
}

bool set_permissions(Context& ctx) {
    if (!create_missing(ctx)) return false;
    Ids ids = lookup_ids(ctx);
    for (const auto& d : queue_dirs(ctx)) apply(d, ids);
    // Queue files below the mail_owner directories belong to mail_owner.
    for (const char* name : {"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
                             "saved", "trace", "maildrop", "recycle"}) {
        walk(ctx.queue_directory + "/" + name, false, [&](const std::string& p, const struct stat& st) {
            if (S_ISLNK(st.st_mode)) return;
            if (st.st_uid != ids.owner_uid && ::lchown(p.c_str(), ids.owner_uid, static_cast<gid_t>(-1)) < 0)
                msg_warn("chown {}: {}", p, std::strerror(errno));
        });
    }
    for (const char* cmd : {"postdrop", "postqueue"}) {
        std::string path = ctx.command_directory + "/" + cmd;
        struct stat st {};
        if (::lstat(path.c_str(), &st) < 0 || !S_ISREG(st.st_mode)) continue;
        if (::chown(path.c_str(), 0, ids.setgid_gid) < 0 || ::chmod(path.c_str(), 02755) < 0)
            msg_warn("set-gid {}: {}", path, std::strerror(errno));
    }
    return true;
}

bool check_fatal(Context& ctx) {
    if (!create_missing(ctx)) {
        util::msg_fatal_throws(false);
        util::msg_fatal("unable to create missing queue directories");
    }
    std::string master_cf = ctx.config_directory + "/master.cf";
    if (::access(master_cf.c_str(), F_OK) < 0) util::msg_fatal("no {} file found", master_cf);
    if (!ctx.config.get("maillog_file").empty()) {
        bool found = false;
        for (const auto& e : config::load_master_cf(master_cf))
            if (e.name == "postlog" && e.type == "unix-dgram") found = true;
        if (!found)
            util::msg_fatal("missing 'postlog' service in master.cf - run 'postfix upgrade-configuration'");
    }
    std::string postsuper = ctx.command_directory + "/postsuper";
    if (::access(postsuper.c_str(), X_OK) == 0 && run_program(postsuper, {"postsuper"}) != 0) return false;
    return true;
}

void check_warn(Context& ctx) {
    Ids ids = lookup_ids(ctx);
    const std::string& q = ctx.queue_directory;
    // Root-owned queue directories.
    for (const std::string& p : {q + "/.", q + "/pid"}) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) < 0) continue;
        if (st.st_uid != 0) msg_warn("not owned by root: {}", p);
    }
    for (const std::string& p : {q + "/.", q + "/pid"}) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) < 0) continue;
        if (writable_by_others(st)) msg_warn("group or other writable: {}", p);
    }
    // Root-owned trees: configuration, and for a single instance the
    // program and meta directories.
    std::set<std::string> todo = {ctx.config_directory + "/."};
    if (ctx.check_shared_files) {
        todo.insert(ctx.daemon_directory + "/.");
        todo.insert(ctx.meta_directory + "/.");
        if (ctx.shlib_directory != "no") todo.insert(ctx.shlib_directory + "/.");
    }
    for (const auto& t : todo)
        walk(t, false, [](const std::string& p, const struct stat& st) {
            if (st.st_uid != 0) msg_warn("not owned by root: {}", p);
        });
    for (const auto& t : todo)
        walk(t, true, [](const std::string& p, const struct stat& st) {
            if (writable_by_others(st)) msg_warn("group or other writable: {}", p);
        });
    for (const auto& t : todo)
        walk(t, false, [](const std::string& p, const struct stat& st) {
            if (!S_ISLNK(st.st_mode)) return;
            char target[4096];
            ssize_t n = ::readlink(p.c_str(), target, sizeof(target) - 1);
            if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)).find('/') != std::string_view::npos)
                msg_warn("symlink leaves directory: {}", p);
        });
    // mail_owner's trees.
    walk(ctx.data_directory + "/.", false, [&](const std::string& p, const struct stat& st) {
        if (st.st_uid != ids.owner_uid) msg_warn("not owned by {}: {}", ctx.mail_owner, p);
    });
    walk(ctx.data_directory + "/.", false, [&](const std::string& p, const struct stat& st) {
        if (writable_by_others(st)) msg_warn("group or other writable: {}", p);
    });
    for (const char* name : {"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
                             "private", "public", "saved", "trace", "recycle"}) {
        walk(q + "/" + name, false, [&](const std::string& p, const struct stat& st) {
            if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) return;
            if (st.st_uid != ids.owner_uid) msg_warn("not owned by {}: {}", ctx.mail_owner, p);
        });
    }
    {
        struct stat st {};
        if (::lstat((q + "/maildrop").c_str(), &st) == 0 && st.st_uid != ids.owner_uid)
            msg_warn("not owned by {}: {}", ctx.mail_owner, q + "/maildrop");
    }
    // setgid_group's directories and commands.
    std::vector<std::string> group_todo;
    if (ctx.check_shared_files) {
        group_todo.push_back(ctx.command_directory + "/postqueue");
        group_todo.push_back(ctx.command_directory + "/postdrop");
    }
    group_todo.push_back(q + "/public");
    group_todo.push_back(q + "/maildrop");
    for (const auto& p : group_todo) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) == 0 && st.st_gid != ids.setgid_gid)
            msg_warn("not owned by group {}: {}", ctx.setgid_group, p);
    }
    if (ctx.check_shared_files) {
        for (const char* cmd : {"postqueue", "postdrop"}) {
            std::string p = ctx.command_directory + "/" + cmd;
            struct stat st {};
            if (::lstat(p.c_str(), &st) < 0) continue;
            mode_t need = S_ISGID | S_IXUSR | S_IXGRP | S_IXOTH;
            if ((st.st_mode & need) != need) msg_warn("not set-gid or not owner+group+world executable: {}", p);
        }
    }
    // Damaged messages (find corrupt -type f, relative to the queue).
    walk(q + "/corrupt", false, [&](const std::string& p, const struct stat& st) {
        if (S_ISREG(st.st_mode)) msg_warn("damaged message: {}", p.substr(q.size() + 1));
    });
}

}  // namespace pf::postfix_cmd
