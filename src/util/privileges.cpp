// drop_privileges() of privileges.h: chroot, chdir, groups, gid, uid, verify.
#include "util/privileges.h"

#include "util/msg.h"

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <fmt/core.h>

namespace pf::util {

std::expected<void, std::string> drop_privileges(uid_t uid, gid_t gid, const std::string& chroot_dir,
                                                 const std::string& work_dir) {
    if (!chroot_dir.empty()) {
        if (::chdir(chroot_dir.c_str()) < 0)
            return std::unexpected(fmt::format("chdir({}): {}", chroot_dir, std::strerror(errno)));
        if (::chroot(chroot_dir.c_str()) < 0)
            return std::unexpected(fmt::format("chroot({}): {}", chroot_dir, std::strerror(errno)));
    }
    std::string dir = work_dir.empty() ? std::string("/") : work_dir;
    if (::chdir(dir.c_str()) < 0)
        return std::unexpected(fmt::format("chdir({}): {}", dir, std::strerror(errno)));
    if (::geteuid() == 0) {
        if (::setgroups(1, &gid) < 0)
            return std::unexpected(fmt::format("setgroups(1, &{}): {}", gid, std::strerror(errno)));
    }
    if (::setresgid(gid, gid, gid) < 0)
        return std::unexpected(fmt::format("setresgid({}): {}", gid, std::strerror(errno)));
    if (::setresuid(uid, uid, uid) < 0)
        return std::unexpected(fmt::format("setresuid({}): {}", uid, std::strerror(errno)));
    // Verify: every id is what we asked for, and root cannot come back.
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    if (::getresuid(&ruid, &euid, &suid) < 0 || ::getresgid(&rgid, &egid, &sgid) < 0)
        return std::unexpected(fmt::format("getresuid/getresgid: {}", std::strerror(errno)));
    if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid)
        return std::unexpected(fmt::format("privilege drop to uid={} gid={} did not take effect", uid, gid));
    if (uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
        return std::unexpected(fmt::format("privilege drop to uid={}: root privileges can be regained", uid));
    return {};
}

std::expected<Account, std::string> lookup_account(const std::string& name) {
    errno = 0;
    const passwd* pw = ::getpwnam(name.c_str());
    if (pw == nullptr) return std::unexpected(fmt::format("unknown user name: {}", name));
    return Account{pw->pw_uid, pw->pw_gid};
}

std::expected<gid_t, std::string> lookup_group(const std::string& name) {
    const group* gr = ::getgrnam(name.c_str());
    if (gr == nullptr) return std::unexpected(fmt::format("unknown group name: {}", name));
    return gr->gr_gid;
}

void run_as_user_if_root(const std::string& name, const std::function<void()>& body) {
    uid_t saved_uid = ::geteuid();
    gid_t saved_gid = ::getegid();
    bool switched = false;
    if (saved_uid == 0) {
        if (const passwd* pw = ::getpwnam(name.c_str())) {
            if (::setegid(pw->pw_gid) == 0 && ::seteuid(pw->pw_uid) == 0) switched = true;
        }
    }
    body();
    if (switched && (::seteuid(saved_uid) != 0 || ::setegid(saved_gid) != 0))
        msg_fatal("cannot restore root privileges");
}

void set_eugid(uid_t uid, gid_t gid) {
    if (::geteuid() != 0 && ::seteuid(0) < 0) msg_fatal("seteuid(0): {}", std::strerror(errno));
    if (::setegid(gid) < 0) msg_fatal("setegid({}): {}", static_cast<long>(gid), std::strerror(errno));
    if (::geteuid() == 0 && ::setgroups(1, &gid) < 0) msg_fatal("setgroups: {}", std::strerror(errno));
    if (::seteuid(uid) < 0) msg_fatal("seteuid({}): {}", static_cast<long>(uid), std::strerror(errno));
}

}  // namespace pf::util
