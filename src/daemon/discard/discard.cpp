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
#include "util/msg.h"

int main(int argc, char** argv) {
    using namespace pf;
    return ipc::run_delivery_agent(argc, argv, {}, [](ipc::ServerContext&, ipc::DeliveryRequest& request,
                                                        ipc::DeliveryQueueFile& file) {
        ipc::Dsn dsn = ipc::nexthop_dsn(request, "2.0.0");
        ipc::DeliveryRecorder recorder(ipc::delivery_agent().settings, request);
        int result = 0;
        for (const auto& rcpt : request.recipients)
            result |= ipc::finish_recipient(file, rcpt, recorder.sent(rcpt, ipc::kNoRelay, dsn),
                                            (request.flags & ipc::kDeliverySuccess) != 0);
        return result;
    });
}
