// virtual(8) per-recipient delivery: see virtual_deliver.h.
#include "virtual_deliver.h"

#include "mail/address_quote.h"
#include "mailbox/mailbox_guards.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <cstdlib>
#include <fmt/core.h>

namespace pf::virtual_agent {

namespace {

constexpr unsigned kCopyMbox = ipc::kCopyFrom | ipc::kCopyQuote | ipc::kCopyReturnPath | ipc::kCopyDelivered |
                               ipc::kCopyOrigRcpt | ipc::kCopyBlank;
constexpr unsigned kCopyMaildir = ipc::kCopyReturnPath | ipc::kCopyDelivered | ipc::kCopyOrigRcpt;

bool trace_only(unsigned flags) { return flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify); }

mail::AddrFindResult lookup(const VirtualSettings& s, const std::optional<mail::Maps>& maps, const std::string& user) {
    if (!maps || maps->empty()) return {};
    return mail::mail_addr_find(*maps, mail::quote_822_local(user), s.find_ctx);
}

std::string title(const std::optional<mail::Maps>& maps, std::string_view fallback) {
    return maps ? maps->title() : std::string(fallback);
}

int defer_config(VirtualContext& ctx, const ipc::DeliveryRecipient& rcpt) {
    return ctx.recorder.defer(rcpt, ctx.service, ipc::Dsn::simple("4.3.5", "mail system configuration error"));
}

// atol(): leading blanks, a sign, digits; anything after is ignored.
long leading_number(const std::string& text) { return std::strtol(text.c_str(), nullptr, 10); }

class AsRecipient {
public:
    AsRecipient(VirtualContext& ctx, uid_t uid, gid_t gid) : ctx_(ctx) { ctx_.set_identity(uid, gid); }
    ~AsRecipient() { ctx_.set_identity(ctx_.owner_uid, ctx_.owner_gid); }
    AsRecipient(const AsRecipient&) = delete;
    AsRecipient& operator=(const AsRecipient&) = delete;

private:
    VirtualContext& ctx_;
};

mailbox::MessageSource message_source(const VirtualSettings& s, const ipc::DeliveryRequest& request,
                                      std::FILE* queue_file, const ipc::DeliveryRecipient& rcpt, unsigned flags) {
    mailbox::MessageSource m;
    m.queue_file = queue_file;
    m.data_offset = request.data_offset;
    m.envelope.sender = request.sender;
    m.envelope.orig_recipient = rcpt.orig_addr;
    m.envelope.delivered = rcpt.address;
    m.envelope.enable_original_recipient = s.enable_original_recipient;
    m.copy_flags = flags;
    return m;
}

int finish(VirtualContext& ctx, const ipc::DeliveryRecipient& rcpt, mailbox::MailboxResult& result,
           std::string_view prefix, std::string_view success, bool* corrupt) {
    if (result.delivered) {
        ipc::Dsn dsn = ipc::Dsn::simple("2.0.0", std::string(success));
        return ctx.recorder.sent(rcpt, ctx.service, std::move(dsn));
    }
    if (result.failure == mailbox::MailboxFailure::corrupt) {
        if (corrupt) *corrupt = true;
        return -1;
    }
    result.dsn.reason = fmt::format("{}{}", prefix, result.dsn.reason);
    if (!result.dsn.status.empty() && result.dsn.status[0] == '4')
        return ctx.recorder.defer(rcpt, ctx.service, std::move(result.dsn));
    return ctx.recorder.bounce(rcpt, ctx.service, std::move(result.dsn));
}

int deliver_mbox(VirtualContext& ctx, const ipc::DeliveryRequest& request, std::FILE* queue_file,
                 const ipc::DeliveryRecipient& rcpt, const std::string& path, uid_t uid, gid_t gid, bool* corrupt) {
    const VirtualSettings& s = ctx.settings;
    if (trace_only(request.flags)) return ctx.recorder.sent(rcpt, ctx.service, ipc::Dsn::simple("2.0.0", "delivers to mailbox"));
    mailbox::MboxTarget target;
    target.path = path;
    target.owner = {uid, gid};
    target.lock_identity = {uid, gid};
    target.lock_styles = s.lock_styles;
    target.size_limit = 0;  // virtual_mailbox_limit is the process's own limit (set at start-up)
    target.stale_lock_time = s.stale_lock_time;
    target.deliver_lock_attempts = s.lock_attempts;
    target.deliver_lock_delay = s.lock_delay;
    target.default_status = "4.2.0";
    target.dotlock_may_fail = false;
    target.check_owner = s.strict_mailbox_ownership;
    mailbox::MailboxResult result;
    {
        AsRecipient as(ctx, uid, gid);
        result = mailbox::deliver_to_mbox(target, message_source(s, request, queue_file, rcpt, kCopyMbox));
    }
    if (result.failure == mailbox::MailboxFailure::not_regular) {
        util::msg_warn("recipient {}: destination {} is not a regular file", rcpt.address, path);
        result.dsn = ipc::Dsn::simple("5.3.5", "mail system configuration error");
        return ctx.recorder.bounce(rcpt, ctx.service, std::move(result.dsn));
    }
    if (result.failure == mailbox::MailboxFailure::not_owner)
        util::msg_warn("specify \"strict_mailbox_ownership = no\" to ignore mailbox ownership mismatch");
    return finish(ctx, rcpt, result, fmt::format("delivery failed to mailbox {}: ", path), "delivered to mailbox",
                  corrupt);
}

int deliver_maildir(VirtualContext& ctx, const ipc::DeliveryRequest& request, std::FILE* queue_file,
                    const ipc::DeliveryRecipient& rcpt, const std::string& path, uid_t uid, gid_t gid, bool* corrupt) {
    const VirtualSettings& s = ctx.settings;
    if (trace_only(request.flags)) return ctx.recorder.sent(rcpt, ctx.service, ipc::Dsn::simple("2.0.0", "delivers to maildir"));
    mailbox::MaildirTarget target;
    target.directory = path;
    target.owner = {uid, gid};
    target.size_limit = 0;  // virtual_mailbox_limit is the process's own limit (set at start-up)
    target.hostname = s.hostname;
    mailbox::MailboxResult result;
    {
        AsRecipient as(ctx, uid, gid);
        result = mailbox::deliver_to_maildir(target, message_source(s, request, queue_file, rcpt, kCopyMaildir));
    }
    if (!result.delivered && result.failure != mailbox::MailboxFailure::corrupt && result.error_number == EACCES) {
        util::msg_warn("maildir access problem for UID/GID={}/{}: {}", static_cast<long>(uid), static_cast<long>(gid),
                       result.dsn.reason);
        util::msg_warn("perhaps you need to create the maildirs in advance");
    }
    return finish(ctx, rcpt, result, "maildir delivery failed: ", "delivered to maildir", corrupt);
}

}  // namespace

int deliver_recipient(VirtualContext& ctx, const ipc::DeliveryRequest& request, std::FILE* queue_file,
                      const ipc::DeliveryRecipient& rcpt, bool* corrupt) {
    const VirtualSettings& s = ctx.settings;
    if (!ctx.set_identity) ctx.set_identity = [](uid_t u, gid_t g) { mailbox::set_eugid(u, g); };
    if (s.mailbox_base.empty() || s.mailbox_base[0] != '/')
        util::msg_fatal("do not specify relative pathname: virtual_mailbox_base = {}", s.mailbox_base);
    const std::string user = util::to_lower(rcpt.address);

    auto mailbox_res = lookup(s, s.mailbox_maps, user);
    if (mailbox_res.status == mail::AddrFindResult::Status::not_found) {
        ipc::Dsn dsn = ipc::Dsn::simple("5.1.1", fmt::format("unknown user: \"{}\"", user));
        dsn.dtype = "smtp";
        dsn.dtext = "550 user unknown";
        return ctx.recorder.bounce(rcpt, ctx.service, std::move(dsn));
    }
    if (mailbox_res.status == mail::AddrFindResult::Status::error) {
        // The reference's text is the same whatever the table's problem
        // (seen with fail: tables and with tables that could not be opened).
        util::msg_warn("table {}: lookup {}: Application error", title(s.mailbox_maps, "virtual_mailbox_maps"), user);
        return defer_config(ctx, rcpt);
    }
    const std::string path = s.mailbox_base + "/" + mailbox_res.value;

    auto uid_res = lookup(s, s.uid_maps, user);
    if (uid_res.status != mail::AddrFindResult::Status::found) {
        util::msg_warn("recipient {}: not found in {}", user, title(s.uid_maps, "virtual_uid_maps"));
        return defer_config(ctx, rcpt);
    }
    long uid = leading_number(uid_res.value);
    if (uid < s.minimum_uid) {
        util::msg_warn("recipient {}: bad uid {} in {}", user, uid_res.value, title(s.uid_maps, "virtual_uid_maps"));
        return defer_config(ctx, rcpt);
    }
    auto gid_res = lookup(s, s.gid_maps, user);
    if (gid_res.status != mail::AddrFindResult::Status::found) {
        util::msg_warn("recipient {}: not found in {}", user, title(s.gid_maps, "virtual_gid_maps"));
        return defer_config(ctx, rcpt);
    }
    long gid = leading_number(gid_res.value);
    if (gid <= 0) {
        util::msg_warn("recipient {}: bad gid {} in {}", user, gid_res.value, title(s.gid_maps, "virtual_gid_maps"));
        return defer_config(ctx, rcpt);
    }
    if (util::msg_verbose)
        util::msg_info("deliver_mailbox[1]: set user_attr: {}, uid = {}, gid = {}", path, uid, gid);
    if (path.back() == '/')
        return deliver_maildir(ctx, request, queue_file, rcpt, path, static_cast<uid_t>(uid), static_cast<gid_t>(gid),
                               corrupt);
    return deliver_mbox(ctx, request, queue_file, rcpt, path, static_cast<uid_t>(uid), static_cast<gid_t>(gid), corrupt);
}

}  // namespace pf::virtual_agent
