// Recording one expanded recipient's outcome for local(8): the recipient
// as the expansion left it (its address changes, its queue-file offset
// and original address stay those of the top-level recipient), logged
// with relay=<service>. Also the reference's "bounce workaround": a
// failed command, file or loop for an address that has an owner- alias
// is reported to that owner at once with a one-recipient notice (the
// bounce service's "one" request) and logged "bounced".
//
// Trust: addresses and texts come from our own expansion code.
#include "local.h"

#include "ipc/bounce_client.h"
#include "ipc/deliver_log.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::local {

bool Context::been_here(const std::string& key) {
    std::string folded = util::to_lower(key);
    if (dup_filter.contains(folded)) return true;
    if (settings.dup_filter_limit <= 0 || static_cast<int>(dup_filter.size()) < settings.dup_filter_limit)
        dup_filter.insert(std::move(folded));
    return false;
}

bool Context::been_here_check(const std::string& key) const { return dup_filter.contains(util::to_lower(key)); }

int record_sent(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn) {
    return ctx.recorder.sent(attr.rcpt, ctx.settings.service, std::move(dsn));
}

int record_bounce(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn) {
    return ctx.recorder.bounce(attr.rcpt, ctx.settings.service, std::move(dsn));
}

int record_defer(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn) {
    return ctx.recorder.defer(attr.rcpt, ctx.settings.service, std::move(dsn));
}

int record_bounce_or_defer(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn) {
    return ctx.recorder.bounce_or_defer(attr.rcpt, ctx.settings.service, std::move(dsn));
}

void record_trace(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn) {
    ipc::BounceAppendRequest req;
    req.flags = 0;
    req.queue_id = ctx.request.queue_id;
    req.recipient = attr.rcpt;
    dsn.reason = fmt::format("delivery via {}: {}", ctx.settings.service, dsn.reason);
    req.dsn = std::move(dsn);
    auto done = ipc::bounce_append(ctx.settings.queue_directory, ctx.settings.trace_service, req,
                                   ctx.settings.ipc_timeout);
    if (!done) util::msg_warn("{}: trace service failure", ctx.request.queue_id);
}

int bounce_workaround(Context& ctx, MsgAttr attr, ipc::Dsn dsn) {
    std::optional<std::string> canon_owner;
    if (ctx.settings.owner_request_special) {
        auto owner_of = [&](const std::string& address) {
            return ctx.aliases.find("owner-" + address.substr(0, address.rfind('@')));
        };
        std::string owner_alias = "owner-" + attr.rcpt.address.substr(0, attr.rcpt.address.rfind('@'));
        auto found = owner_of(attr.rcpt.address);
        if (found.is_not_found() && !ctx.settings.recipient_delimiter.empty()) {
            // Try again without the address extension.
            std::string stripped = attr.rcpt.address;
            auto at = stripped.rfind('@');
            std::string local_part = stripped.substr(0, at);
            auto pos = local_part.find_first_of(ctx.settings.recipient_delimiter);
            if (pos != std::string::npos && pos > 0) {
                std::string bare = local_part.substr(0, pos) + (at == std::string::npos ? "" : stripped.substr(at));
                owner_alias = "owner-" + bare.substr(0, bare.rfind('@'));
                found = owner_of(bare);
            }
        }
        if (found.is_error())
            return record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "alias database unavailable"));
        if (found.is_found()) {
            const std::string& text = ctx.settings.expand_owner_alias ? found.value() : owner_alias;
            auto canon = ctx.rewrite.rewrite_internal("local", text);
            canon_owner = canon ? canon->address : text;
            attr.sender = *canon_owner;
            attr.owner = *canon_owner;
        }
    }
    if (!canon_owner || dsn.status.empty() || dsn.status[0] == '4') return record_bounce_or_defer(ctx, attr, std::move(dsn));
    return bounce_one(ctx, attr, std::move(dsn));
}

int bounce_one(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn) {
    const ipc::DeliveryRequest& rq = ctx.request;
    if ((rq.flags & (ipc::kDeliveryMtaVerify | ipc::kDeliveryUserVerify)) || ctx.recorder_soft_bounce())
        return record_bounce(ctx, attr, std::move(dsn));
    dsn.action = "failed";
    ipc::BounceNoticeRequest req;
    req.request = "one";
    req.flags = rq.flags;
    req.queue_name = rq.queue_name;
    req.queue_id = rq.queue_id;
    req.encoding = rq.encoding;
    req.smtputf8 = rq.smtputf8;
    req.sender = attr.sender;
    req.dsn_envid = attr.dsn_envid;
    req.dsn_ret = attr.dsn_ret;
    req.recipient = attr.rcpt;
    req.dsn = dsn;
    auto status = ipc::bounce_notice(ctx.settings.queue_directory, ctx.settings.bounce_service, req,
                                     ctx.settings.ipc_timeout);
    if (status && *status == 0) {
        util::msg_info("{}", ipc::delivery_log_line(rq.queue_id, rq.times, attr.rcpt, ctx.settings.service, dsn,
                                                    "bounced", ctx.settings.log, ipc::TimeStamp::now()));
        return 0;
    }
    ipc::Dsn failure = ipc::Dsn::simple("4.3.0", fmt::format("{} or {} service failure", ctx.settings.bounce_service,
                                                             ctx.settings.trace_service));
    return record_defer(ctx, attr, failure);
}

}  // namespace pf::local
