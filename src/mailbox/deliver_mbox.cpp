// Appending one message to an mbox file, as the reference's mbox_open +
// mail_copy + mbox_release do it for local(8) and virtual(8):
//  1. (as lock_identity) when dotlock is among the styles and the path is
//     missing or a regular file: create <path>.lock (an existing lock after
//     every retry: status 4.2.0; another error: mbox_dsn(errno, default)
//     or, with dotlock_may_fail, only a warning);
//  2. (as lock_identity) safe_open with O_APPEND|O_WRONLY|O_CREAT|
//     O_NONBLOCK, mode 0600, new files given to owner; then flock and/or
//     fcntl locks on a regular file; a link count other than 1 afterwards
//     is "target file status changed unexpectedly" (4.2.0);
//  3. (as the caller) refuse a non-regular file or, with check_owner, a
//     file of another uid; append with ipc::copy_message, fsync; on any
//     failure truncate back to the old size;
//  4. (as lock_identity) remove the dotlock.
// Write errors: mbox_dsn(errno, "5.3.0") "error writing message: <errno>";
// read errors: 4.3.0 (EAGAIN/ESTALE) or 5.3.0 "error reading message:
// <errno>", both with diagnostic type x-unix "input/output error".
//
// Trust: see mailbox.h; the file at path is hostile.
#include "mailbox/mailbox.h"
#include "mailbox/mailbox_copy.h"
#include "mailbox/mailbox_guards.h"
#include "mailbox/mbox_lock.h"
#include "mailbox/safe_open.h"

#include "util/msg.h"
#include "util/write_all.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::mailbox {

namespace {

MailboxResult failed(MailboxFailure kind, std::string status, std::string reason, int error_number) {
    MailboxResult r;
    r.failure = kind;
    r.error_number = error_number;
    r.dsn = ipc::Dsn::simple(std::move(status), std::move(reason));
    return r;
}

}  // namespace

// Copies the message to an open file descriptor positioned at its end;
// on failure truncates back to orig_length. Shared with the Maildir writer.
MailboxResult copy_to_file(int fd, off_t orig_length, const MessageSource& message, bool truncate_on_error) {
    ipc::CopyResult copy = ipc::copy_message(message.queue_file, message.data_offset, message.envelope,
                                             message.copy_flags, "\n",
                                             [fd](std::string_view chunk) { return util::write_all(fd, chunk); });
    int write_errno = copy.write_error ? copy.write_errno : 0;
    bool write_error = copy.write_error;
    int read_errno = copy.read_error ? (errno ? errno : EIO) : 0;
    if (!write_error && ::fsync(fd) < 0) {
        write_error = true;
        write_errno = errno;
    }
    if (truncate_on_error && (copy.corrupt || copy.read_error || write_error)) (void)::ftruncate(fd, orig_length);
    MailboxResult r;
    if (copy.read_error) {
        r = failed(MailboxFailure::write, (read_errno == EAGAIN || read_errno == ESTALE) ? "4.3.0" : "5.3.0",
                   fmt::format("error reading message: {}", std::strerror(read_errno)), read_errno);
        r.dsn.dtype = "x-unix";
        r.dsn.dtext = "input/output error";
    }
    if (write_error) {
        r = failed(MailboxFailure::write, mbox_dsn(write_errno, "5.3.0"),
                   fmt::format("error writing message: {}", std::strerror(write_errno)), write_errno);
        r.dsn.dtype = "x-unix";
        r.dsn.dtext = "input/output error";
    }
    if (copy.corrupt) {
        r.failure = MailboxFailure::corrupt;
        if (r.dsn.status.empty()) r.dsn = ipc::Dsn::simple("4.3.0", "corrupted queue file");
    }
    if (!copy.corrupt && !copy.read_error && !write_error) r.delivered = true;
    return r;
}

MailboxResult deliver_to_mbox(const MboxTarget& target, const MessageSource& message) {
    FileSizeLimit limit(target.size_limit);
    LockRetry retry{target.deliver_lock_attempts, target.deliver_lock_delay, target.stale_lock_time};
    std::string why;
    bool dot_locked = false;
    struct stat st {};
    Fd fd;
    {
        EffectiveIdentity as_locker(target.lock_identity);
        if ((target.lock_styles & kLockDotlock) && (::stat(target.path.c_str(), &st) < 0 || S_ISREG(st.st_mode))) {
            if (dot_lockfile(target.path, retry, why) == 0) {
                dot_locked = true;
            } else if (errno == EEXIST) {
                return failed(MailboxFailure::open, mbox_dsn(EAGAIN, target.default_status), why, EEXIST);
            } else if (target.dotlock_may_fail) {
                util::msg_warn("{}", why);
            } else {
                int e = errno;
                return failed(MailboxFailure::open, mbox_dsn(e, target.default_status), why, e);
            }
        }
        auto unlock = [&] {
            if (dot_locked) dot_unlockfile(target.path);
        };
        // A new file belongs to owner; no chown when we create it as owner.
        const Identity* chown_to = (target.owner.uid == ::geteuid() && target.owner.gid == ::getegid()) ? nullptr
                                                                                                         : &target.owner;
        fd = safe_open(target.path, O_APPEND | O_WRONLY | O_CREAT | O_NONBLOCK, S_IRUSR | S_IWUSR, st, chown_to, why);
        if (!fd) {
            int e = errno;
            unlock();
            return failed(MailboxFailure::open, mbox_dsn(e, target.default_status), why, e);
        }
        if (S_ISREG(st.st_mode)) {
            bool ok = true;
            if ((target.lock_styles & kLockFlock) && deliver_flock(fd.get(), KernelLock::flock, retry, why) < 0) ok = false;
            if (ok && (target.lock_styles & kLockFcntl) && deliver_flock(fd.get(), KernelLock::fcntl, retry, why) < 0)
                ok = false;
            if (!ok) {
                int e = errno;
                unlock();
                return failed(MailboxFailure::open, mbox_dsn(e, target.default_status), why, e);
            }
            if (::fstat(fd.get(), &st) < 0 || st.st_nlink != 1) {
                util::msg_warn("{}: file status changed unexpectedly", target.path);
                unlock();
                return failed(MailboxFailure::open, mbox_dsn(EAGAIN, target.default_status),
                              "target file status changed unexpectedly", EAGAIN);
            }
        }
    }

    MailboxResult result;
    if (!S_ISREG(st.st_mode)) {
        fd.reset();
        result = failed(MailboxFailure::not_regular, "5.2.0",
                        fmt::format("destination {} is not a regular file", target.path), 0);
    } else if (target.check_owner && st.st_uid != target.owner.uid) {
        fd.reset();
        result = failed(MailboxFailure::not_owner, "4.2.0",
                        fmt::format("destination {} is not owned by recipient", target.path), 0);
    } else {
        off_t end = ::lseek(fd.get(), 0, SEEK_END);
        if (end < 0) util::msg_fatal("seek file {}: {}", target.path, std::strerror(errno));
        result = copy_to_file(fd.get(), end, message, true);
        result.start_offset = end;
        if (fd.close() < 0 && result.delivered) {
            int e = errno;
            result = failed(MailboxFailure::write, mbox_dsn(e, "5.3.0"),
                            fmt::format("error writing message: {}", std::strerror(e)), e);
            result.dsn.dtype = "x-unix";
            result.dsn.dtext = "input/output error";
        }
    }
    if (dot_locked) {
        EffectiveIdentity as_locker(target.lock_identity);
        dot_unlockfile(target.path);
    }
    return result;
}

}  // namespace pf::mailbox
