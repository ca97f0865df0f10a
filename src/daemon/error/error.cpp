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
#include "ipc/deliver_completion.h"
#include "ipc/deliver_queue_file.h"
#include "ipc/delivery_request.h"
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
    std::string buffer;
    auto request = ipc::receive_delivery_request(fd, buffer, st.settings.ipc_timeout);
    if (!request) {
        util::msg_warn("deliver_request_get: {}", request.error());
        return false;
    }
    if (!request->times.agent_handoff.is_set()) request->times.agent_handoff = ipc::TimeStamp::now();
    bool is_retry;
    if (ctx.service_name == "error")
        is_retry = false;
    else if (ctx.service_name == "retry")
        is_retry = true;
    else
        util::msg_fatal("bad error service name: {}", ctx.service_name);
    if (request->nexthop.empty()) util::msg_fatal("empty nexthop hostname");
    auto file = ipc::DeliveryQueueFile::open(st.layout, request->queue_name, request->queue_id);
    if (!file) util::msg_fatal("deliver_message: {}", file.error().text);

    auto split = ipc::dsn_split(is_retry ? "4.0.0" : "5.0.0", request->nexthop);
    ipc::Dsn dsn = ipc::Dsn::simple(split.status, std::string(split.text));
    ipc::DeliveryRecorder recorder(st.settings, *request);
    int result = 0;
    for (const auto& rcpt : request->recipients) {
        int status = is_retry ? recorder.defer(rcpt, ipc::kNoRelay, dsn) : recorder.bounce(rcpt, ipc::kNoRelay, dsn);
        if (status == 0)
            if (auto done = file->mark_done(rcpt.offset); !done) util::msg_fatal("{}", done.error());
        result |= status;
    }
    ipc::DeliveryReply reply;
    reply.status = result != 0 ? 1 : 0;
    if (auto sent = ipc::send_delivery_reply(fd, reply, st.settings.ipc_timeout); !sent)
        util::msg_warn("{}", sent.error());
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        state().settings = ipc::DeliveryAgentSettings::from_config(ctx.config);
        state().layout = queue::QueueLayout::from_config(ctx.config);
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), error_service);
}
