// local(8) hand-off of one recipient to another transport
// (mailbox_transport, fallback_transport and their _maps), as the
// reference's deliver_pass: the same delivery request, with only this
// recipient (its queue-file offset withheld, so the other agent does not
// mark it; local marks the top-level recipient when the answer is final),
// sent to private/<transport>; "transport:nexthop" overrides the next hop.
// The other agent logs and records the outcome itself.
//
// Trust: the transport name comes from main.cf or a table.
#include "local.h"

#include "ipc/service_client.h"
#include "util/msg.h"

#include <fmt/core.h>

namespace pf::local {

int deliver_pass(Context& ctx, MsgAttr attr, const std::string& transport_spec) {
    std::string transport = transport_spec;
    std::string nexthop = ctx.request.nexthop;
    if (auto colon = transport.find(':'); colon != std::string::npos) {
        if (colon + 1 < transport.size()) nexthop = transport.substr(colon + 1);
        transport.erase(colon);
    }
    util::msg_info("{}: passing <{}> to transport={}", ctx.request.queue_id, attr.rcpt.address, transport);
    ipc::DeliveryRequest pass = ctx.request;
    pass.nexthop = nexthop;
    pass.recipients = {attr.rcpt};
    pass.recipients.front().offset = -1;
    auto defer = [&](const std::string& why) {
        util::msg_warn("{}", why);
        return record_defer(ctx, attr, ipc::Dsn::simple("4.3.0", "mail transport unavailable"));
    };
    auto conn = ipc::connect_service(ctx.settings.queue_directory, "private", transport, ctx.settings.ipc_timeout);
    if (!conn) return defer(fmt::format("connect to transport private/{}: {}", transport, conn.error()));
    std::string buffer;
    auto reply = ipc::run_delivery_request(conn->fd(), buffer, pass, ctx.settings.ipc_timeout);
    if (!reply) return defer(fmt::format("{}: {}", transport, reply.error()));
    return reply->status;
}

}  // namespace pf::local
