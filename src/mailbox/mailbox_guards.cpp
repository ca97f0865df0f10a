// Scoped effective identity and file size limit: see mailbox_guards.h.
#include "mailbox/mailbox_guards.h"

#include "util/msg.h"

#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pf::mailbox {

void set_eugid(uid_t uid, gid_t gid) {
    // Root first (fatal otherwise), so the group list can always be set.
    if (::geteuid() != 0 && ::seteuid(0) < 0) util::msg_fatal("seteuid(0): {}", std::strerror(errno));
    if (::setegid(gid) < 0) util::msg_fatal("setegid({}): {}", static_cast<long>(gid), std::strerror(errno));
    if (::setgroups(1, &gid) < 0) util::msg_fatal("setgroups: {}", std::strerror(errno));
    if (::seteuid(uid) < 0) util::msg_fatal("seteuid({}): {}", static_cast<long>(uid), std::strerror(errno));
}

EffectiveIdentity::EffectiveIdentity(const Identity& to) {
    saved_.uid = ::geteuid();
    saved_.gid = ::getegid();
    if (saved_.uid == to.uid && saved_.gid == to.gid) return;
    int saved_errno = errno;
    set_eugid(to.uid, to.gid);
    errno = saved_errno;
    switched_ = true;
}

EffectiveIdentity::~EffectiveIdentity() {
    if (!switched_) return;
    int saved_errno = errno;
    set_eugid(saved_.uid, saved_.gid);
    errno = saved_errno;
}

bool set_file_size_limit(off_t limit) {
    struct rlimit lim {};
    if (limit <= 0 || ::getrlimit(RLIMIT_FSIZE, &lim) < 0) return limit <= 0;
    rlim_t want = static_cast<rlim_t>(limit);
    if (lim.rlim_max != RLIM_INFINITY && want > lim.rlim_max) want = lim.rlim_max;
    lim.rlim_cur = want;
    return ::setrlimit(RLIMIT_FSIZE, &lim) == 0;
}

FileSizeLimit::FileSizeLimit(off_t limit) {
    if (limit <= 0) return;
    if (::getrlimit(RLIMIT_FSIZE, &saved_) < 0) return;
    struct rlimit lim = saved_;
    rlim_t want = static_cast<rlim_t>(limit);
    if (lim.rlim_max != RLIM_INFINITY && want > lim.rlim_max) want = lim.rlim_max;
    lim.rlim_cur = want;
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGXFSZ, &ignore, &saved_action_);
    if (::setrlimit(RLIMIT_FSIZE, &lim) < 0) {
        ::sigaction(SIGXFSZ, &saved_action_, nullptr);
        return;
    }
    active_ = true;
}

FileSizeLimit::~FileSizeLimit() {
    if (!active_) return;
    int saved_errno = errno;
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::sigaction(SIGXFSZ, &saved_action_, nullptr);
    errno = saved_errno;
}

}  // namespace pf::mailbox
