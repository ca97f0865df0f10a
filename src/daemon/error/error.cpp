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
#include "util/msg.h"

int main(int argc, char** argv) {
    using namespace pf;
    return ipc::run_delivery_agent(argc, argv, {}, [](ipc::ServerContext& ctx, ipc::DeliveryRequest& request,
                                                        ipc::DeliveryQueueFile& file) {
        bool is_retry;
        if (ctx.service_name == "error")
            is_retry = false;
        else if (ctx.service_name == "retry")
            is_retry = true;
        else
            util::msg_fatal("bad error service name: {}", ctx.service_name);
        ipc::Dsn dsn = ipc::nexthop_dsn(request, is_retry ? "4.0.0" : "5.0.0");
        ipc::DeliveryRecorder recorder(ipc::delivery_agent().settings, request);
        int result = 0;
        for (const auto& rcpt : request.recipients)
            result |= ipc::finish_recipient(
                file, rcpt, is_retry ? recorder.defer(rcpt, ipc::kNoRelay, dsn) : recorder.bounce(rcpt, ipc::kNoRelay, dsn));
        return result;
    });
}
