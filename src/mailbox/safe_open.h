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
#include "util/unique_fd.h"

#include <sys/stat.h>

#include <string>

namespace pf::mailbox {

// An owned descriptor (closed on destruction; close() gives the result).
using Fd = util::UniqueFd;

// flags: O_WRONLY/O_APPEND/O_NONBLOCK/...; with O_CREAT a missing file is
// created with mode and, when chown_to is set, given to that owner.
// On failure: an invalid Fd, errno set, why filled.
Fd safe_open(const std::string& path, int flags, mode_t mode, struct stat& st, const Identity* chown_to,
             std::string& why);

}  // namespace pf::mailbox
