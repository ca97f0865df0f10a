// Client side of the bounce, defer and trace services' "append" request:
// a delivery agent (or qmgr) hands one recipient's outcome to
// private/<bounce_service_name|defer_service_name|trace_service_name>,
// which appends it to the per-message log file
// queue_directory/{bounce,defer,trace}/<hash>/<queue id> that notices,
// mailq(1) and the reference's own bounce/showq read.
//
//   {request=append, flags, queue_id, rcpt_orig, rcpt_addr, rcpt_offset,
//    rcpt_dsn_orcpt, rcpt_dsn_notify, dsn_status, dsn_action, reason,
//    dsn_dtype, dsn_dtext, dsn_mtype, dsn_mname}  →  {status=0|-1}
//
// Requests for notices (flush, warn, verp, one) belong to issue 5 and use
// the same connection rules.
//
// Trust: the server trusts its clients (our own agents) for the meaning of
// the fields; the codec rejects malformed messages.
#pragma once

#include "ipc/attr.h"
#include "ipc/deliver_dsn.h"
#include "ipc/delivery_request.h"

#include <expected>
#include <string>
#include <string_view>

namespace pf::ipc {

struct BounceAppendRequest {
    unsigned flags = 0;          // the delivery request's flags (trace bits)
    std::string queue_id;
    DeliveryRecipient recipient;
    Dsn dsn;
};

AttrList to_attrs(const BounceAppendRequest& request);
std::expected<BounceAppendRequest, std::string> bounce_append_from_attrs(const AttrList& attrs);

// Connects to private/<service> under queue_directory, sends the request
// and waits for the answer; an error text when the service could not be
// reached or said no.
std::expected<void, std::string> bounce_append(const std::string& queue_directory, std::string_view service,
                                               const BounceAppendRequest& request, int timeout);

}  // namespace pf::ipc
