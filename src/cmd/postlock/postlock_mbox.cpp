// postlock(1)'s open-and-lock of a mailbox file: see postlock_mbox.h.
#include "cmd/postlock/postlock_mbox.h"

#include "mailbox/safe_open.h"
#include "util/msg.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

namespace pf::postlock {

MailboxHold::MailboxHold(MailboxHold&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::move(other.fd_)), dot_locked_(std::exchange(other.dot_locked_, false)) {}

MailboxHold& MailboxHold::operator=(MailboxHold&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        fd_ = std::move(other.fd_);
        dot_locked_ = std::exchange(other.dot_locked_, false);
    }
    return *this;
}

void MailboxHold::release() {
    fd_.reset();
    if (dot_locked_) {
        mailbox::dot_unlockfile(path_);
        dot_locked_ = false;
    }
}

std::expected<MailboxHold, std::string> open_and_lock(const std::string& path, unsigned lock_styles,
                                                      const mailbox::LockRetry& retry) {
    MailboxHold hold;
    hold.path_ = path;
    std::string why;
    struct stat st {};
    // The dotlock only for a missing path or a regular file (a device or
    // a FIFO gets none), as the reference.
    if ((lock_styles & mailbox::kLockDotlock) && (::stat(path.c_str(), &st) < 0 || S_ISREG(st.st_mode))) {
        if (mailbox::dot_lockfile(path, retry, why) < 0) return std::unexpected(why);
        hold.dot_locked_ = true;
    }
    hold.fd_ = mailbox::safe_open(path, O_APPEND | O_WRONLY | O_CREAT | O_NONBLOCK, S_IRUSR | S_IWUSR, st, nullptr,
                                  why);
    if (!hold.fd_) return std::unexpected(why);  // hold's destructor removes the dotlock
    if (S_ISREG(st.st_mode)) {
        if ((lock_styles & mailbox::kLockFlock) &&
            mailbox::deliver_flock(hold.fd_.get(), mailbox::KernelLock::flock, retry, why) < 0)
            return std::unexpected(why);
        if ((lock_styles & mailbox::kLockFcntl) &&
            mailbox::deliver_flock(hold.fd_.get(), mailbox::KernelLock::fcntl, retry, why) < 0)
            return std::unexpected(why);
        if (::fstat(hold.fd_.get(), &st) < 0 || st.st_nlink != 1) {
            util::msg_warn("{}: file status changed unexpectedly", path);
            return std::unexpected(std::string("target file status changed unexpectedly"));
        }
    }
    return hold;
}

}  // namespace pf::postlock
