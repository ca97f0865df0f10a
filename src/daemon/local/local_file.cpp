// local(8) delivery to "/file" destinations, as the reference's
// deliver_file: once per (uid, path); only where allow_mail_to_files
// permits the expansion type (else 5.7.1 "mail to file is restricted");
// with the delivery rights (default_privs instead of root); a path ending
// in '/' is a Maildir; otherwise the message is appended in mbox form
// (From_, quoting, Return-Path:, X-Original-To:, Delivered-To: with
// prepend_delivered_header "file") under the mailbox locks. Success logs
// "delivered to file: <path>"; a failure is prefixed "cannot append
// message to file <path>: " and defers for 4.x.x, else bounces.
//
// Trust: the path is user input (.forward, include files) and is opened
// with that user's rights only.
#include "local.h"

#include "mailbox/mailbox.h"
#include "util/msg.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::local {

namespace {

// A device such as /dev/null: opened for appending as is (never created,
// never locked, never truncated), as the reference treats a destination
// that is not a regular file.
mailbox::MailboxResult append_special(const std::string& path, const mailbox::MessageSource& src) {
    mailbox::MailboxResult result;
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        result.dsn = ipc::Dsn::simple("5.2.0", fmt::format("cannot open file: {}", std::strerror(errno)));
        return result;
    }
    auto sink = [fd](std::string_view data) {
        while (!data.empty()) {
            ssize_t n = ::write(fd, data.data(), data.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    };
    ipc::CopyResult copy = ipc::copy_message(src.queue_file, src.data_offset, src.envelope, src.copy_flags, "\n", sink);
    int saved = errno;
    ::close(fd);
    if (copy.write_error || copy.read_error || copy.corrupt) {
        result.dsn = ipc::Dsn::simple(copy.write_error ? "5.2.0" : "4.3.0",
                                      fmt::format("error writing message: {}",
                                                  std::strerror(copy.write_error ? copy.write_errno : saved)));
        return result;
    }
    result.delivered = true;
    return result;
}

}  // namespace

int deliver_file(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& path) {
    const Settings& s = ctx.settings;
    attr.level++;
    if (ctx.been_here(fmt::format("file {} {}", static_cast<long>(usr.uid), path))) return 0;
    if ((s.allow_files & attr.exp_type) == 0)
        return bounce_workaround(ctx, attr, ipc::Dsn::simple("5.7.1", "mail to file is restricted"));
    if (ctx.request.flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify))
        return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", fmt::format("delivers to file: {}", path)));
    if (usr.uid == 0) usr.uid = s.default_uid;
    if (usr.gid == 0) usr.gid = s.default_gid;
    if (!path.empty() && path.back() == '/') return deliver_maildir(ctx, attr, usr, path);

    mailbox::MessageSource src = message_source(ctx, attr, mbox_copy_flags(s));
    mailbox::MboxTarget target = mbox_target(s, path);
    target.owner = mailbox::Identity{usr.uid, usr.gid};
    target.lock_identity = target.owner;
    target.dotlock_may_fail = true;
    target.check_owner = false;

    set_eugid(usr.uid, usr.gid);
    struct stat st;
    mailbox::MailboxResult result;
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && S_ISREG(st.st_mode) && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
        result.dsn = ipc::Dsn::simple("5.7.1", "file is executable");
    } else if (exists && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        result = append_special(path, src);
    } else {
        result = mailbox::deliver_to_mbox(target, src);
    }
    restore_eugid(s);
    if (result.delivered)
        return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", fmt::format("delivered to file: {}", path)));
    if (result.failure == mailbox::MailboxFailure::corrupt) return -1;
    ipc::Dsn dsn = result.dsn;
    dsn.reason = fmt::format("cannot append message to file {}: {}", path, dsn.reason);
    return bounce_workaround(ctx, attr, dsn);
}

}  // namespace pf::local
