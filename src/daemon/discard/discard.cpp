// discard(8): accepts every recipient of a delivery request and throws the
// mail away, logging "status=sent (<text>)" with relay=none, where the
// text is the request's next-hop (the transport's nexthop field, or the
// recipient domain when that is empty) and an optional leading "X.Y.Z"
// status code in it replaces 2.0.0. Delivered recipients are marked done
// in the queue file (unless the request says not to).
//
// Privileges: none needed beyond mail_owner (the skeleton drops to it).
// Trust: requests come from qmgr; master.cf gives no arguments.
#include "ipc/deliver_agent.h"
#include "ipc/mail_server.h"
#include "util/msg.h"

#include <fmt/core.h>

namespace {

using namespace pf;

struct DiscardState {
    ipc::DeliveryAgentSettings settings;
    queue::QueueLayout layout;
};

DiscardState& state() {
    static DiscardState s;
    return s;
}

bool discard_service(ipc::ServerContext& ctx, int fd) {
    if (!ctx.args.empty()) util::msg_fatal("unexpected command-line argument: {}", ctx.args.front());
    DiscardState& st = state();
    return ipc::serve_delivery_request(fd, st.settings, st.layout, [&](ipc::DeliveryRequest& request,
                                                                       ipc::DeliveryQueueFile& file) {
        if (request.nexthop.empty()) util::msg_fatal("empty nexthop hostname");
        auto split = ipc::dsn_split("2.0.0", request.nexthop);
        ipc::Dsn dsn = ipc::Dsn::simple(split.status, std::string(split.text));
        ipc::DeliveryRecorder recorder(st.settings, request);
        int result = 0;
        for (const auto& rcpt : request.recipients)
            result |= ipc::finish_recipient(file, rcpt, recorder.sent(rcpt, ipc::kNoRelay, dsn),
                                            (request.flags & ipc::kDeliverySuccess) != 0);
        return result;
    });
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        state().settings = ipc::DeliveryAgentSettings::from_config(ctx.config);
        state().layout = queue::QueueLayout::from_config(ctx.config);
    };
    // Inside a chroot jail the skeleton has made queue_directory "/": the
    // bounce/defer/trace sockets are found from there.
    hooks.post_init = [](ipc::ServerContext& ctx) {
        state().settings.queue_directory = ctx.config.get("queue_directory");
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), discard_service);
}
