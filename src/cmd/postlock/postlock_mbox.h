// postlock(1)'s hold on a mailbox file: the reference's mbox_open with the
// arguments postlock gives it (O_APPEND|O_WRONLY|O_CREAT, mode 0600, no
// change of owner, default status 5.2.0), built from the same pieces as
// local(8)'s mailbox writer (src/mailbox): a dotlock <file>.lock when the
// path is missing or a regular file, safe_open, then flock and/or fcntl on
// a regular file, a link count of 1 afterwards. The descriptor is
// close-on-exec, so the command run under the lock does not inherit it.
// Released (descriptor closed, dotlock removed) by release() or the
// destructor.
//
// Failure texts are the low-level reasons postlock prints after
// "open file <path>: ": "unable to create lock file <path>.lock: <errno>",
// "cannot open file: <errno>", "unable to lock for exclusive access:
// <errno>", "target file status changed unexpectedly".
//
// Trust: the path comes from the invoking user; what is on disk there is
// hostile (symlink, directory, FIFO, hard-linked file): safe_open decides.
#pragma once

#include "mailbox/mailbox.h"
#include "mailbox/mbox_lock.h"
#include "util/unique_fd.h"

#include <expected>
#include <string>

namespace pf::postlock {

class MailboxHold {
public:
    MailboxHold() = default;
    MailboxHold(const MailboxHold&) = delete;
    MailboxHold& operator=(const MailboxHold&) = delete;
    MailboxHold(MailboxHold&& other) noexcept;
    MailboxHold& operator=(MailboxHold&& other) noexcept;
    ~MailboxHold() { release(); }

    // Closes the descriptor (dropping kernel locks), then removes the dotlock.
    void release();
    int fd() const { return fd_.get(); }
    bool dot_locked() const { return dot_locked_; }

private:
    friend std::expected<MailboxHold, std::string> open_and_lock(const std::string&, unsigned,
                                                                 const mailbox::LockRetry&);
    std::string path_;
    util::UniqueFd fd_;
    bool dot_locked_ = false;
};

// lock_styles: a mask of mailbox::kLockFcntl/kLockFlock/kLockDotlock (0: no
// lock at all, as the reference with an empty -l). The error is the
// reason text (without "open file <path>: ").
std::expected<MailboxHold, std::string> open_and_lock(const std::string& path, unsigned lock_styles,
                                                      const mailbox::LockRetry& retry);

}  // namespace pf::postlock
