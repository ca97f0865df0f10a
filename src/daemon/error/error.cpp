// error(8) and retry: one program, two services chosen by the master.cf
// service name. As "error" it bounces every recipient of a request
// (default status 5.0.0), as "retry" it defers them (default 4.0.0); the
// reason is the request's next-hop text (from "error:5.7.1 text" in a
// transport table or the transport field), whose optional leading "X.Y.Z"
// status code replaces the default. Logged with relay=none; bounced
// recipients are marked done in the queue file once the bounce service
// has recorded them. Any other service name is fatal, as in the reference.
//
// Privileges: none needed beyond mail_owner (the skeleton drops to it).
// Trust: requests come from qmgr; master.cf gives no arguments.
#include "ipc/deliver_agent.h"
#include "ipc/mail_server.h"
#include "util/msg.h"

#include <fmt/core.h>

namespace {

using namespace pf;

struct ErrorState {
    ipc::DeliveryAgentSettings settings;
    queue::QueueLayout layout;
};

ErrorState& state() {
    static ErrorState s;
    return s;
}

bool error_service(ipc::ServerContext& ctx, int fd) {
    if (!ctx.args.empty()) util::msg_fatal("unexpected command-line argument: {}", ctx.args.front());
    ErrorState& st = state();
    bool is_retry;
    if (ctx.service_name == "error")
        is_retry = false;
    else if (ctx.service_name == "retry")
        is_retry = true;
    else
        util::msg_fatal("bad error service name: {}", ctx.service_name);
    return ipc::serve_delivery_request(fd, st.settings, st.layout, [&](ipc::DeliveryRequest& request,
                                                                       ipc::DeliveryQueueFile& file) {
        if (request.nexthop.empty()) util::msg_fatal("empty nexthop hostname");
        auto split = ipc::dsn_split(is_retry ? "4.0.0" : "5.0.0", request.nexthop);
        ipc::Dsn dsn = ipc::Dsn::simple(split.status, std::string(split.text));
        ipc::DeliveryRecorder recorder(st.settings, request);
        int result = 0;
        for (const auto& rcpt : request.recipients)
            result |= ipc::finish_recipient(
                file, rcpt, is_retry ? recorder.defer(rcpt, ipc::kNoRelay, dsn) : recorder.bounce(rcpt, ipc::kNoRelay, dsn));
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
    return ipc::run_single_server(argc, argv, std::move(hooks), error_service);
}
