// local(8) forwarding by re-submission (local_forward.h).
#include "local_forward.h"

#include "mail/mail_date.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"

#include <sys/time.h>

#include <cstdio>
#include <fmt/core.h>

namespace pf::local {

namespace {

constexpr unsigned kForwardCleanupFlags = ipc::kCleanupBounce | ipc::kCleanupMapOk;
constexpr std::size_t kRecordLimit = 1u << 20;

}  // namespace

void Forwarder::init() {
    open_.clear();
    order_.clear();
}

int Forwarder::append(Context& ctx, const MsgAttr& attr) {
    const std::string delivered = attr.delivered.value_or(attr.rcpt.address);
    auto key = std::make_pair(delivered, attr.sender);
    auto it = open_.find(key);
    if (it == open_.end()) {
        auto client = ipc::CleanupClient::open(ctx.settings.queue_directory, ctx.settings.cleanup_service,
                                               kForwardCleanupFlags, ctx.settings.ipc_timeout);
        if (!client) {
            util::msg_warn("connect to cleanup service: {}", client.error());
            return -1;
        }
        struct timeval now;
        ::gettimeofday(&now, nullptr);
        Pending p{std::move(*client), {}, now.tv_sec, false};
        p.queue_id = p.client.queue_id();
        const ipc::DeliveryRequest& rq = ctx.request;
        auto w = [&p](char type, std::string_view data) {
            if (!p.client.write(type, data)) p.failed = true;
        };
        auto wa = [&p](std::string_view name, std::string_view value) {
            if (!value.empty() && !p.client.write_attr(name, value)) p.failed = true;
        };
        w(queue::rec::kTime, fmt::format("{} {}", static_cast<long>(now.tv_sec), static_cast<long>(now.tv_usec)));
        w(queue::rec::kFrom, attr.sender);
        if (attr.dsn_ret) wa("ret_flags", std::to_string(attr.dsn_ret));
        wa("envelope_id", attr.dsn_envid);
        wa("log_client_name", rq.client_name);
        wa("log_client_address", rq.client_addr);
        wa("log_protocol_name", rq.client_proto);
        wa("log_helo_name", rq.client_helo);
        wa("sasl_method", rq.sasl_method);
        wa("sasl_username", rq.sasl_username);
        wa("sasl_sender", rq.sasl_sender);
        wa("log_ident", rq.log_ident);
        wa("rewrite_context", rq.rewrite_context);
        it = open_.emplace(key, std::move(p)).first;
        order_.push_back(key);
    }
    Pending& p = it->second;
    if (!attr.rcpt.dsn_orcpt.empty() && !p.client.write_attr("dsn_orig_rcpt", attr.rcpt.dsn_orcpt)) p.failed = true;
    if (attr.rcpt.dsn_notify && !p.client.write_attr("notify_flags", std::to_string(attr.rcpt.dsn_notify)))
        p.failed = true;
    if (!attr.rcpt.orig_addr.empty() && !p.client.write(queue::rec::kOrigRcpt, attr.rcpt.orig_addr)) p.failed = true;
    if (!p.client.write(queue::rec::kRcpt, attr.rcpt.address)) p.failed = true;
    return p.failed ? -1 : 0;
}

int Forwarder::finish(Context& ctx, const MsgAttr& top, int cancel) {
    int status = cancel;
    for (const auto& key : order_) {
        auto it = open_.find(key);
        if (it == open_.end()) continue;
        Pending& p = it->second;
        if (status != 0) continue;
        const std::string& delivered = key.first;
        auto w = [&p](char type, std::string_view data) {
            if (!p.client.write(type, data)) p.failed = true;
        };
        w(queue::rec::kMessage, "");
        w(queue::rec::kNorm, fmt::format("Received: by {} ({})", ctx.settings.myhostname, ctx.settings.mail_name));
        w(queue::rec::kNorm, fmt::format("\tid {}; {}", p.queue_id, mail::mail_date(p.posting_time)));
        if (ctx.settings.delivered_header & kHeaderForward)
            w(queue::rec::kNorm, fmt::format("Delivered-To: {}", util::to_lower(delivered)));
        std::FILE* fp = ctx.file.stream();
        int local_status = p.failed ? 1 : 0;
        char last_type = 0;
        if (local_status == 0) {
            if (std::fseek(fp, ctx.request.data_offset, SEEK_SET) != 0)
                util::msg_fatal("forward_send: seek queue file {}", ctx.file.path());
            for (;;) {
                auto rec = queue::read_record(fp, kRecordLimit);
                if (!rec) {
                    last_type = 0;
                    break;
                }
                if (rec->type == queue::rec::kPointer) {
                    long where = std::strtol(rec->data.c_str(), nullptr, 10);
                    if (where <= 0 || std::fseek(fp, where, SEEK_SET) != 0) {
                        last_type = 0;
                        break;
                    }
                    continue;
                }
                if (rec->type == queue::rec::kPadding) continue;
                last_type = rec->type;
                if (rec->type != queue::rec::kNorm && rec->type != queue::rec::kCont) break;
                if (!p.client.write(rec->type, rec->data)) {
                    local_status = 1;
                    break;
                }
            }
            if (local_status == 0 && last_type != queue::rec::kExtracted) {
                util::msg_warn("{}: bad record type: {} in message content", p.queue_id, static_cast<int>(last_type));
                local_status = 1;
            }
        }
        if (local_status == 0) {
            w(queue::rec::kExtracted, "");
            w(queue::rec::kEnd, "");
            auto reply = p.client.finish();
            if (!reply || reply->status != 0) local_status = 1;
        }
        if (local_status == 0) {
            MsgAttr done = top;
            int n = done.rcpt.dsn_notify;
            done.rcpt.dsn_notify = n == 2 ? 1 : (n & ~2);
            ipc::Dsn dsn = ipc::Dsn::simple("2.0.0", fmt::format("forwarded as {}", p.queue_id));
            dsn.action = "relayed";
            local_status = record_sent(ctx, done, dsn);
        }
        status |= local_status;
    }
    init();
    return status;
}

}  // namespace pf::local
