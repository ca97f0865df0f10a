// local(8): one recipient through the delivery switch, as the reference's
// deliver_recipient / deliver_switch / deliver_resolve_tree /
// deliver_indirect:
//  - a recipient seen before at the same nesting level is skipped;
//  - an address among the message's Delivered-To: headers bounces 5.4.6
//    "mail forwarding loop for <address>";
//  - the local part is folded to lower case and split at the first
//    recipient_delimiter byte (never postmaster, MAILER-DAEMON, the
//    double-bounce sender, nor owner-x and x-request when '-' is a
//    delimiter and owner_request_special is on, nor when the user part
//    would be empty); an extension with '/' is dropped with a warning; an
//    empty user bounces 5.1.3 "null username in ...";
//  - the switch: "\user" goes straight to the mailbox; otherwise aliases
//    (full local part, then the bare user), forwarding for recipients
//    under an owner (or from an :include:), the user's home check,
//    .forward, the mailbox, the unknown-user rules;
//  - addresses from expansions are rewritten (local context) and resolved
//    like qmgr does; the unmatched extension is spliced back in; an address
//    for this transport recurses, any other is forwarded.
//
// Trust: addresses come from alias tables, include and .forward files.
#include "local.h"
#include "local_forward.h"

#include "util/msg.h"
#include "util/strings.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::local {

namespace {

// The reference's split_addr: the extension after the first delimiter
// byte, or nullopt.
std::optional<std::string> split_extension(std::string& user, const Settings& s) {
    if (s.recipient_delimiter.empty()) return std::nullopt;
    if (util::iequals(user, "postmaster") || util::iequals(user, "MAILER-DAEMON") ||
        util::iequals(user, s.double_bounce_sender))
        return std::nullopt;
    if (s.owner_request_special && s.recipient_delimiter.find('-') != std::string::npos) {
        if (user.size() >= 6 && util::iequals(std::string_view(user).substr(0, 6), "owner-")) return std::nullopt;
        if (user.size() > 8 && util::iequals(std::string_view(user).substr(user.size() - 8), "-request"))
            return std::nullopt;
    }
    auto pos = user.find_first_of(s.recipient_delimiter);
    if (pos == std::string::npos || pos == 0) return std::nullopt;
    std::string ext = user.substr(pos + 1);
    user.erase(pos);
    return ext;
}

int deliver_switch(Context& ctx, MsgAttr attr, UserAttr usr) {
    attr.level++;
    int status = 0;

    if (!attr.rcpt.address.empty() && attr.rcpt.address[0] == '\\') {
        attr.rcpt.address.erase(0, 1);
        if (!attr.local.empty() && attr.local[0] == '\\') attr.local.erase(0, 1);
        if (!attr.user.empty() && attr.user[0] == '\\') attr.user.erase(0, 1);
        if (!deliver_mailbox(ctx, attr, usr, status)) status = deliver_unknown(ctx, attr, usr);
        return status;
    }

    attr.unmatched.reset();
    if (deliver_alias(ctx, attr, usr, attr.local, status)) return status;
    if (attr.extension) {
        if (ctx.settings.ext_prop & kPropAlias) attr.unmatched = attr.extension;
        if (deliver_alias(ctx, attr, usr, attr.user, status)) return status;
        attr.unmatched = attr.extension;
    }

    if (attr.owner && !util::iequals(*attr.owner, attr.user)) return deliver_indirect(ctx, attr);
    if (attr.exp_type == kExpandInclude) return deliver_indirect(ctx, attr);

    PasswdLookup pw = passwd_by_name(attr.user);
    if (pw.error != 0) {
        util::msg_warn("error looking up passwd info for {}: {}", attr.user, std::strerror(pw.error));
        return record_defer(ctx, attr, ipc::Dsn::simple("4.0.0", "user lookup error"));
    }
    if (pw.entry) {
        struct stat st;
        set_eugid(pw.entry->uid, pw.entry->gid);
        int rc = ::stat(pw.entry->home.c_str(), &st);
        int saved = errno;
        restore_eugid(ctx.settings);
        if (rc < 0)
            return record_defer(ctx, attr,
                                ipc::Dsn::simple("4.3.0", fmt::format("cannot access home directory {}: {}",
                                                                      pw.entry->home, std::strerror(saved))));
    }
    if (!deliver_dotforward(ctx, attr, usr, status) && !deliver_mailbox(ctx, attr, usr, status))
        status = deliver_unknown(ctx, attr, usr);
    return status;
}

}  // namespace

int deliver_recipient(Context& ctx, MsgAttr attr, UserAttr usr) {
    attr.level++;
    if (ctx.been_here(fmt::format("recipient {} {}", attr.level, attr.rcpt.address))) return 0;

    if (ipc::delivered_to_loop(ctx.loop_info, attr.rcpt.address))
        return bounce_workaround(ctx, attr,
                                 ipc::Dsn::simple("5.4.6", fmt::format("mail forwarding loop for {}", attr.rcpt.address)));

    if (!attr.delivered) attr.delivered = attr.rcpt.address;
    attr.local = util::to_lower(attr.rcpt.address);
    if (auto at = attr.local.rfind('@'); at != std::string::npos) {
        attr.domain = attr.local.substr(at + 1);
        attr.local.erase(at);
    } else {
        attr.domain.reset();
        util::msg_warn("no @ in recipient address: {}", attr.local);
    }

    attr.user = attr.local;
    attr.extension = split_extension(attr.user, ctx.settings);
    if (attr.extension && attr.extension->find('/') != std::string::npos) {
        util::msg_warn("{}: address with illegal extension: {}", ctx.request.queue_id, attr.local);
        attr.extension.reset();
        attr.local.resize(attr.user.size());
    }
    attr.unmatched = attr.extension;

    if (attr.user.empty())
        return record_bounce(ctx, attr,
                             ipc::Dsn::simple("5.1.3", fmt::format("null username in \"{}\"", attr.rcpt.address)));
    return deliver_switch(ctx, std::move(attr), std::move(usr));
}

int deliver_resolve_addr(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& address) {
    attr.level++;
    auto rewritten = ctx.rewrite.rewrite_internal("local", address);
    if (!rewritten || (rewritten->flags & ipc::kResolveFail)) {
        if (!rewritten) util::msg_warn("{}", rewritten.error());
        return record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "address resolver failure"));
    }
    auto reply = ctx.rewrite.resolve("", rewritten->address);
    if (!reply || reply->is_fail()) {
        if (!reply) util::msg_warn("{}", reply.error());
        return record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "address resolver failure"));
    }
    if (reply->is_error())
        return record_bounce(ctx, attr,
                             ipc::Dsn::simple("5.1.3", fmt::format("bad recipient address syntax: {}", reply->recipient)));
    std::string recipient = reply->recipient;
    if (attr.unmatched && !ctx.settings.recipient_delimiter.empty()) {
        std::string insert = std::string(1, ctx.settings.recipient_delimiter[0]) + *attr.unmatched;
        auto at = recipient.rfind('@');
        if (at == std::string::npos)
            recipient += insert;
        else
            recipient.insert(at, insert);
    }
    attr.rcpt.address = recipient;
    if (reply->transport == ctx.settings.service) return deliver_recipient(ctx, std::move(attr), std::move(usr));
    return deliver_indirect(ctx, std::move(attr));
}

int deliver_indirect(Context& ctx, MsgAttr attr) {
    if (ctx.been_here(fmt::format("indirect {}", attr.rcpt.address))) return 0;
    if (ctx.request.flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify))
        return record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", fmt::format("forwards to {}", attr.rcpt.address)));
    if (ctx.forwarder.append(ctx, attr) != 0)
        return record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "unable to forward message"));
    return 0;
}

}  // namespace pf::local
