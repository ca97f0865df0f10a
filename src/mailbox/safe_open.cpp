// Careful open/create of mailbox files: see safe_open.h.
#include "mailbox/safe_open.h"

#include "util/msg.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::mailbox {

namespace {

std::string parent_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    std::string_view dir(path.data(), slash);
    while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
    return dir.empty() ? "/" : std::string(dir);
}

Fd open_existing(const std::string& path, int flags, struct stat& st, std::string& why) {
    Fd fd(::open(path.c_str(), (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC, 0));
    if (!fd) {
        int saved = errno;
        why = fmt::format("cannot open file: {}", std::strerror(saved));
        errno = saved;
        return Fd();
    }
    struct stat lst {};
    if (::fstat(fd.get(), &st) < 0) util::msg_fatal("{}: bad open file status: {}", path, std::strerror(errno));
    if (st.st_nlink != 1) {
        why = fmt::format("file has {} hard links", static_cast<int>(st.st_nlink));
        errno = EPERM;
    } else if (S_ISDIR(st.st_mode)) {
        why = "file is a directory";
        errno = EISDIR;
    } else if (::lstat(path.c_str(), &lst) < 0) {
        why = fmt::format("file status changed unexpectedly: {}", std::strerror(errno));
        errno = EPERM;
    } else if (S_ISLNK(lst.st_mode)) {
        if (lst.st_uid == 0) {
            struct stat pst {};
            if (::stat(parent_of(path).c_str(), &pst) == 0 && pst.st_uid == 0 && (pst.st_mode & (S_IWGRP | S_IWOTH)) == 0)
                return fd;
        }
        why = "file is a symbolic link";
        errno = EPERM;
    } else if (st.st_dev != lst.st_dev || st.st_ino != lst.st_ino || st.st_nlink != lst.st_nlink ||
               st.st_mode != lst.st_mode) {
        why = "file status changed unexpectedly";
        errno = EPERM;
    } else {
        return fd;
    }
    int saved = errno;
    fd.reset();
    errno = saved;
    return Fd();
}

Fd create_new(const std::string& path, int flags, mode_t mode, struct stat& st, const Identity* chown_to,
              std::string& why) {
    Fd fd(::open(path.c_str(), flags | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd) {
        int saved = errno;
        why = fmt::format("cannot create file exclusively: {}", std::strerror(saved));
        errno = saved;
        return Fd();
    }
    if (::fstat(fd.get(), &st) < 0) util::msg_fatal("{}: bad open file status: {}", path, std::strerror(errno));
    if (chown_to && (st.st_uid != chown_to->uid || st.st_gid != chown_to->gid)) {
        if (::fchown(fd.get(), chown_to->uid, chown_to->gid) < 0) {
            // The reference warns and gives up without removing the file:
            // something else may have opened it meanwhile.
            int saved = errno;
            util::msg_warn("{}: cannot change file ownership: {}", path, std::strerror(saved));
            fd.reset();
            errno = saved;
            return Fd();
        }
        st.st_uid = chown_to->uid;
        st.st_gid = chown_to->gid;
    }
    return fd;
}

}  // namespace

Fd safe_open(const std::string& path, int flags, mode_t mode, struct stat& st, const Identity* chown_to,
             std::string& why) {
    if (!(flags & O_CREAT)) return open_existing(path, flags, st, why);
    if (flags & O_EXCL) return create_new(path, flags, mode, st, chown_to, why);
    Fd fd = open_existing(path, flags, st, why);
    if (!fd && errno == ENOENT) {
        fd = create_new(path, flags, mode, st, chown_to, why);
        if (!fd && errno == EEXIST) fd = open_existing(path, flags, st, why);
    }
    return fd;
}

}  // namespace pf::mailbox
