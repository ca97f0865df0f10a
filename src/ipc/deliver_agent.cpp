// The shared delivery-agent request cycle: see deliver_agent.h.
#include "ipc/deliver_agent.h"

#include "util/msg.h"
#include "util/privileges.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

void mark_corrupt(DeliveryQueueFile& file) {
    util::msg_warn("corrupted queue file: {}", file.path());
    if (::fchmod(file.fd(), S_IRUSR) < 0) util::msg_fatal("mark_corrupt: fchmod {}: {}", file.path(), std::strerror(errno));
}

Dsn nexthop_dsn(const DeliveryRequest& request, std::string_view default_status) {
    if (request.nexthop.empty()) util::msg_fatal("empty nexthop hostname");
    auto split = dsn_split(default_status, request.nexthop);
    return Dsn::simple(split.status, std::string(split.text));
}

namespace {

DeliveryAgent& agent_state() {
    static DeliveryAgent agent;
    return agent;
}

}  // namespace

const DeliveryAgent& delivery_agent() { return agent_state(); }

int run_delivery_agent(int argc, char** argv, DeliveryAgentHooks hooks, AgentDeliver deliver) {
    ServerHooks server;
    server.keep_root = hooks.keep_root;
    server.takes_args = hooks.takes_args;  // else the skeleton refuses extra arguments
    server.pre_accept = std::move(hooks.pre_accept);
    server.pre_init = [keep_root = hooks.keep_root, pre_init = std::move(hooks.pre_init)](ServerContext& ctx) {
        DeliveryAgent& agent = agent_state();
        agent.settings = DeliveryAgentSettings::from_config(ctx.config);
        agent.layout = queue::QueueLayout::from_config(ctx.config);
        if (keep_root) {
            auto owner = util::lookup_account(ctx.config.get("mail_owner"));
            if (!owner) util::msg_fatal("unknown mail_owner: {}", ctx.config.get("mail_owner"));
            agent.owner_uid = owner->uid;
            agent.owner_gid = owner->gid;
            ::signal(SIGPIPE, SIG_IGN);
        }
        if (pre_init) pre_init(ctx);
    };
    server.post_init = [keep_root = hooks.keep_root](ServerContext& ctx) {
        DeliveryAgent& agent = agent_state();
        // Inside a chroot jail the skeleton has made queue_directory "/":
        // the bounce/defer/trace sockets are found from there.
        agent.settings.queue_directory = ctx.config.get("queue_directory");
        // Work as mail_owner; root stays the real uid for the deliveries.
        if (keep_root && ::getuid() == 0) util::set_eugid(agent.owner_uid, agent.owner_gid);
    };
    auto serve = [deliver = std::move(deliver)](ServerContext& ctx, int fd) {
        const DeliveryAgent& agent = agent_state();
        return serve_delivery_request(fd, agent.settings, agent.layout,
                                      [&](DeliveryRequest& request, DeliveryQueueFile& file) {
                                          return deliver(ctx, request, file);
                                      });
    };
    return run_single_server(argc, argv, std::move(server), std::move(serve));
}

}  // namespace pf::ipc
