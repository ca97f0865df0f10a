// Opening a mailbox file without being tricked, as the reference's
// safe_open: an existing file must have exactly one hard link, must not be
// a directory, and must be the file lstat() finds at the path (no
// symbolic link, except a root-owned one in a directory that only root
// may write; nothing swapped in between); a missing file is created with
// O_CREAT|O_EXCL (which never follows a symlink) and optionally given to
// another owner. Texts as the reference: "cannot open file: <errno>",
// "file has N hard links", "file is a directory", "file is a symbolic
// link", "file status changed unexpectedly", "cannot create file
// exclusively: <errno>".
//
// Trust: everything at and above the path is hostile.
#pragma once

#include "mailbox/mailbox.h"

#include <sys/stat.h>

#include <string>

namespace pf::mailbox {

// An owned descriptor (closed on destruction).
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.release();
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    void reset();
    // close() with its result (errno set on failure).
    int close();

private:
    int fd_ = -1;
};

// flags: O_WRONLY/O_APPEND/O_NONBLOCK/...; with O_CREAT a missing file is
// created with mode and, when chown_to is set, given to that owner.
// On failure: an invalid Fd, errno set, why filled.
Fd safe_open(const std::string& path, int flags, mode_t mode, struct stat& st, const Identity* chown_to,
             std::string& why);

}  // namespace pf::mailbox
