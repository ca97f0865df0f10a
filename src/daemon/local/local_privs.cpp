// Privilege switching and password lookups for local(8). The agent keeps
// root as its real uid and works as mail_owner; around each mailbox,
// file, .forward or :include: access it takes the effective ids of the
// user whose rights apply, as the reference's set_eugid/open_as/stat_as.
//
// Trust: ids come from the password database and from file ownership.
#include "local.h"

#include "util/msg.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pf::local {

void set_eugid(uid_t uid, gid_t gid) {
    if (::getuid() != 0) return;  // unprivileged (tests): nothing to switch
    if (::geteuid() != 0 && ::seteuid(0) < 0) util::msg_fatal("seteuid(0): {}", std::strerror(errno));
    if (::setegid(gid) < 0) util::msg_fatal("setegid({}): {}", static_cast<long>(gid), std::strerror(errno));
    if (::setgroups(1, &gid) < 0) util::msg_fatal("setgroups: {}", std::strerror(errno));
    if (::seteuid(uid) < 0) util::msg_fatal("seteuid({}): {}", static_cast<long>(uid), std::strerror(errno));
}

void restore_eugid(const Settings& settings) { set_eugid(settings.owner_uid, settings.owner_gid); }

namespace {

PasswdLookup from_result(struct passwd* pw, int rc) {
    PasswdLookup out;
    if (pw) {
        PasswdEntry e;
        e.name = pw->pw_name;
        e.uid = pw->pw_uid;
        e.gid = pw->pw_gid;
        e.home = pw->pw_dir ? pw->pw_dir : "";
        e.shell = pw->pw_shell ? pw->pw_shell : "";
        out.entry = std::move(e);
    } else if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM) {
        out.error = rc;
    }
    return out;
}

}  // namespace

PasswdLookup passwd_by_name(const std::string& name) {
    struct passwd pwbuf;
    struct passwd* pw = nullptr;
    std::vector<char> buf(16384);
    int rc = ::getpwnam_r(name.c_str(), &pwbuf, buf.data(), buf.size(), &pw);
    return from_result(pw, rc);
}

PasswdLookup passwd_by_uid(uid_t uid) {
    struct passwd pwbuf;
    struct passwd* pw = nullptr;
    std::vector<char> buf(16384);
    int rc = ::getpwuid_r(uid, &pwbuf, buf.data(), buf.size(), &pw);
    return from_result(pw, rc);
}

void set_user_attr(UserAttr& usr, const PasswdEntry& pw) {
    usr.uid = pw.uid;
    usr.gid = pw.gid;
    usr.home = pw.home;
    usr.logname = pw.name;
    usr.shell = pw.shell;
}

void reset_user_attr(UserAttr& usr) { usr = UserAttr{}; }

}  // namespace pf::local
