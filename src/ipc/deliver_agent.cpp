// The shared delivery-agent request cycle: see deliver_agent.h.
#include "ipc/deliver_agent.h"

#include "util/msg.h"

namespace pf::ipc {

bool serve_delivery_request(int fd, const DeliveryAgentSettings& settings, const queue::QueueLayout& layout,
                            const DeliverMessage& deliver) {
    std::string buffer;
    // A request that cannot be served is answered with status -1, as the
    // reference does: its queue manager then defers the message (the file
    // may have been requeued or deleted meanwhile) without suspending the
    // transport, which a disconnect without reply would do.
    auto refuse = [&] {
        DeliveryReply reply;
        reply.status = -1;
        (void)send_delivery_reply(fd, reply, settings.ipc_timeout);
        return false;
    };
    auto request = receive_delivery_request(fd, buffer, settings.ipc_timeout);
    if (!request) {
        util::msg_warn("deliver_request_get: {}", request.error());
        return refuse();
    }
    if (!request->times.agent_handoff.is_set()) request->times.agent_handoff = TimeStamp::now();
    auto file = DeliveryQueueFile::open(layout, request->queue_name, request->queue_id);
    if (!file) {
        if (file.error().kind == DeliveryQueueFile::OpenError::failed) util::msg_fatal("{}", file.error().text);
        util::msg_warn("{}", file.error().text);
        return refuse();
    }
    int status = deliver(*request, *file);
    DeliveryReply reply;
    reply.status = status != 0 ? 1 : 0;
    if (auto sent = send_delivery_reply(fd, reply, settings.ipc_timeout); !sent) util::msg_warn("{}", sent.error());
    return false;
}

int finish_recipient(DeliveryQueueFile& file, const DeliveryRecipient& rcpt, int status, bool mark_only_if) {
    if (status == 0 && mark_only_if)
        if (auto done = file.mark_done(rcpt.offset); !done) util::msg_fatal("{}", done.error());
    return status;
}

}  // namespace pf::ipc
