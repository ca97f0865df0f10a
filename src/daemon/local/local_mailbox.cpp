// local(8) mailbox delivery, as the reference's deliver_mailbox and
// deliver_mailbox_file: once per recipient, in this order
//  - mailbox_transport_maps / mailbox_transport: hand the recipient to
//    that transport;
//  - a user unknown to the password database is not ours (unknown.cpp);
//  - mailbox_command_maps / mailbox_command: run the command as the user;
//  - home_mailbox ending in '/': Maildir under the home directory;
//    mail_spool_directory ending in '/': Maildir <spool>/<user>/;
//  - otherwise an mbox file: $HOME/<home_mailbox> as the user, or
//    <mail_spool_directory>/<user> with the spool's rights (world-writable
//    spool: the user; group-writable: the user and the spool's group;
//    else root, the new file given to the user).
// Success logs "delivered to mailbox" (Maildir: "delivered to maildir");
// with biff = yes an mbox delivery also tells comsat (local_biff.h).
// An address probe answers "delivers to mailbox".
//
// Trust: the mailbox path is built from configuration and the password
// database; the mailbox library checks what is on disk.
#include "local.h"
#include "local_biff.h"

#include "mailbox/mailbox.h"
#include "util/msg.h"
#include "util/strings.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::local {

LocalTables& local_tables() {
    static LocalTables t;
    return t;
}

unsigned mbox_copy_flags(const Settings& s) {
    unsigned flags = ipc::kCopyFrom | ipc::kCopyQuote | ipc::kCopyBlank | ipc::kCopyReturnPath |
                     ipc::kCopyOrigRcpt | ipc::kCopyDelivered;
    if ((s.delivered_header & kHeaderFile) == 0) flags &= ~ipc::kCopyDelivered;
    return flags;
}

mailbox::MboxTarget mbox_target(const Settings& s, const std::string& path) {
    mailbox::MboxTarget target;
    target.path = path;
    target.lock_styles = s.lock_styles;
    target.size_limit = 0;  // mailbox_size_limit holds for the whole process (local.cpp)
    target.stale_lock_time = s.stale_lock_time;
    target.deliver_lock_attempts = s.deliver_lock_attempts;
    target.deliver_lock_delay = s.deliver_lock_delay;
    target.default_status = "5.2.0";
    return target;
}

mailbox::MessageSource message_source(Context& ctx, const MsgAttr& attr, unsigned flags) {
    mailbox::MessageSource src;
    src.queue_file = ctx.file.stream();
    src.data_offset = ctx.request.data_offset;
    src.envelope.sender = attr.sender;
    src.envelope.orig_recipient = attr.rcpt.orig_addr;
    src.envelope.delivered = attr.delivered.value_or(attr.rcpt.address);
    src.envelope.enable_original_recipient = ctx.settings.enable_original_recipient;
    src.copy_flags = flags;
    return src;
}

ipc::Dsn local_maildir_status(const mailbox::MailboxResult& result) {
    ipc::Dsn dsn = result.dsn;
    if (result.failure == mailbox::MailboxFailure::open && result.error_number != 0)
        dsn.status = mailbox::mbox_dsn(result.error_number, "5.2.0");
    return dsn;
}

namespace {

int deliver_mailbox_file(Context& ctx, MsgAttr attr, const UserAttr& usr) {
    const Settings& s = ctx.settings;
    if (ctx.request.flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify))
        return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", "delivers to mailbox"));
    if (!s.frozen_delivered_to) attr.delivered = attr.rcpt.address;

    std::string path;
    bool spool = s.home_mailbox.empty();
    if (!spool)
        path = usr.home.value_or("") + "/" + s.home_mailbox;
    else
        path = s.mail_spool_directory + "/" + attr.user;

    uid_t spool_uid = usr.uid;
    gid_t spool_gid = usr.gid;
    struct stat st;
    if (spool && ::stat(s.mail_spool_directory.c_str(), &st) == 0 && (st.st_mode & S_IWOTH) == 0) {
        if (st.st_mode & S_IWGRP) {
            spool_gid = st.st_gid;
        } else {
            spool_uid = 0;
            spool_gid = 0;
        }
    }

    const unsigned flags = mbox_copy_flags(s);
    mailbox::MboxTarget target = mbox_target(s, path);
    target.owner = spool_uid == usr.uid ? mailbox::Identity{usr.uid, spool_gid} : mailbox::Identity{usr.uid, usr.gid};
    target.lock_identity = mailbox::Identity{spool_uid, spool_gid};
    target.check_owner = s.strict_mailbox_ownership;

    set_eugid(spool_uid, spool_gid);
    mailbox::MailboxResult result = mailbox::deliver_to_mbox(target, message_source(ctx, attr, flags));
    restore_eugid(s);
    if (result.delivered && s.biff && result.start_offset >= 0)
        biff_notify(usr.logname.value_or(attr.user), result.start_offset);
    if (result.delivered) return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", "delivered to mailbox"));
    if (result.failure == mailbox::MailboxFailure::corrupt) return -1;
    ipc::Dsn dsn = result.dsn;
    if (dsn.reason.find("is not owned by recipient") != std::string::npos)
        util::msg_warn("specify \"strict_mailbox_ownership = no\" to ignore mailbox ownership mismatch");
    dsn.reason = fmt::format("cannot update mailbox {} for user {}. {}", path, attr.user, dsn.reason);
    return record_bounce_or_defer(ctx, attr, dsn);
}

}  // namespace

int deliver_maildir(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& path) {
    const Settings& s = ctx.settings;
    if (ctx.request.flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify))
        return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", "delivers to maildir"));
    if (!s.frozen_delivered_to) attr.delivered = attr.rcpt.address;
    unsigned flags = ipc::kCopyReturnPath | ipc::kCopyOrigRcpt | ipc::kCopyDelivered;
    if ((s.delivered_header & kHeaderFile) == 0) flags &= ~ipc::kCopyDelivered;
    if (usr.uid == 0) {
        usr.uid = s.default_uid;
        usr.gid = s.default_gid;
    }
    mailbox::MaildirTarget target;
    target.directory = path;
    target.owner = mailbox::Identity{usr.uid, usr.gid};
    target.size_limit = 0;  // mailbox_size_limit holds for the whole process (local.cpp)
    target.hostname = s.myhostname;
    set_eugid(usr.uid, usr.gid);
    mailbox::MailboxResult result = mailbox::deliver_to_maildir(target, message_source(ctx, attr, flags));
    restore_eugid(s);
    if (result.delivered) return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", "delivered to maildir"));
    if (result.failure == mailbox::MailboxFailure::corrupt) return -1;
    ipc::Dsn dsn = local_maildir_status(result);
    if (dsn.reason.find(std::strerror(EACCES)) != std::string::npos) {
        util::msg_warn("maildir access problem for UID/GID={}/{}: {}", static_cast<long>(usr.uid),
                       static_cast<long>(usr.gid), dsn.reason);
        util::msg_warn("perhaps you need to create the maildirs in advance");
    }
    dsn.reason = "maildir delivery failed: " + dsn.reason;
    return record_bounce_or_defer(ctx, attr, dsn);
}

bool deliver_mailbox(Context& ctx, MsgAttr attr, UserAttr usr, int& status) {
    const Settings& s = ctx.settings;
    attr.level++;
    if (ctx.been_here("mailbox " + attr.local)) return true;

    LocalTables& tables = local_tables();
    if (!tables.mailbox_transport_maps.empty()) {
        auto found = tables.mailbox_transport_maps.find(attr.user);
        if (found.is_found()) {
            attr.rcpt.offset = -1;
            status = deliver_pass(ctx, attr, found.value());
            return true;
        }
        if (found.is_error()) {
            status = record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "table lookup failure"));
            return true;
        }
    }
    if (!s.mailbox_transport.empty()) {
        attr.rcpt.offset = -1;
        status = deliver_pass(ctx, attr, s.mailbox_transport);
        return true;
    }

    PasswdLookup pw = passwd_by_name(attr.user);
    if (pw.error != 0) {
        util::msg_warn("error looking up passwd info for {}: {}", attr.user, std::strerror(pw.error));
        status = record_defer(ctx, attr, ipc::Dsn::simple("4.0.0", "user lookup error"));
        return true;
    }
    if (!pw.entry) return false;
    set_user_attr(usr, *pw.entry);

    auto last_is_slash = [](const std::string& v) { return !v.empty() && v.back() == '/'; };
    if (!tables.mailbox_command_maps.empty()) {
        auto found = tables.mailbox_command_maps.find(attr.user);
        if (found.is_found()) {
            status = deliver_command(ctx, attr, usr, found.value());
            return true;
        }
        if (found.is_error()) {
            status = record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "table lookup failure"));
            return true;
        }
    }
    if (!s.mailbox_command.empty()) {
        status = deliver_command(ctx, attr, usr, s.mailbox_command);
    } else if (last_is_slash(s.home_mailbox)) {
        status = deliver_maildir(ctx, attr, usr, usr.home.value_or("") + "/" + s.home_mailbox);
    } else if (last_is_slash(s.mail_spool_directory)) {
        status = deliver_maildir(ctx, attr, usr, s.mail_spool_directory + attr.user + "/");
    } else {
        status = deliver_mailbox_file(ctx, attr, usr);
    }
    return true;
}

int deliver_unknown(Context& ctx, MsgAttr attr, UserAttr usr) {
    const Settings& s = ctx.settings;
    attr.level++;
    if (ctx.been_here("deliver_unknown " + attr.local)) return 0;

    LocalTables& tables = local_tables();
    if (!tables.fallback_transport_maps.empty()) {
        auto found = tables.fallback_transport_maps.find(attr.user);
        if (found.is_found()) {
            attr.rcpt.offset = -1;
            return deliver_pass(ctx, attr, found.value());
        }
        if (found.is_error()) return record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "table lookup failure"));
    }
    if (!s.fallback_transport.empty()) {
        attr.rcpt.offset = -1;
        return deliver_pass(ctx, attr, s.fallback_transport);
    }
    if (!s.luser_relay.empty()) {
        attr.unmatched.reset();
        LocalExpansion relay = local_expand(s.luser_relay, attr, usr, {});
        // A relay address that names this very recipient would loop.
        auto canon = ctx.rewrite.rewrite_internal("local", relay.text);
        if (canon && canon->address == attr.rcpt.address)
            return record_bounce(ctx, attr,
                                 ipc::Dsn::simple("5.1.1", fmt::format("unknown user: \"{}\"", attr.user)));
        return deliver_resolve_addr(ctx, attr, usr, relay.text);
    }
    if (util::iequals(attr.user, "MAILER-DAEMON") || util::iequals(attr.user, "postmaster")) {
        util::msg_warn("required alias not found: {}", attr.user);
        return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", "discarded"));
    }
    return record_bounce(ctx, attr, ipc::Dsn::simple("5.1.1", fmt::format("unknown user: \"{}\"", attr.user)));
}

}  // namespace pf::local
