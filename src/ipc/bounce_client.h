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
// Notice requests, answered after the notice is handed to cleanup (or
// found unnecessary):
//
//   {request=flush|warn|trace|verp, flags, queue_name, queue_id, encoding,
//    smtputf8, sender, dsn_envid, dsn_ret[, verp_delims]}  →  {status=0|N}
//
//   flush: non-delivery notice from the bounce log (service bounce) or,
//          for expired mail, from the defer log (service defer); the log
//          is removed once the notice is posted;
//   warn:  delay notice from the defer log (service defer), log kept;
//   trace: delivery status report from the trace log (service trace:
//          sendmail -v / -bv), log removed;
//   verp:  flush with one notice per recipient (verp_delims required);
//          a flush that carries verp_delims is treated as verp.
//   {request=one, the fields above, rcpt_* and dsn_* as in append}: a
//          notice about one recipient that is in no log (service bounce).
// flags: kBounceFlagClean (remove the log when the request fails),
// kBounceFlagDelrcpt (mark the reported recipients done in the queue
// file), plus the delivery request flags (kDeliveryUserVerify or
// kDeliveryRecord make a trace a "verify" report). status 0: done; any
// other value: try again later.
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

// Flags of notice and append requests (the reference's values).
inline constexpr unsigned kBounceFlagClean = 1u << 0;
inline constexpr unsigned kBounceFlagDelrcpt = 1u << 1;

struct BounceNoticeRequest {
    std::string request = "flush";  // flush, warn, trace, verp, one
    unsigned flags = 0;
    std::string queue_name;
    std::string queue_id;
    std::string encoding;           // the queue file's encoding attribute
    int smtputf8 = 0;               // sendopts
    std::string sender;
    std::string dsn_envid;
    int dsn_ret = 0;
    std::string verp_delims;        // verp only (two characters)
    // request "one" only:
    DeliveryRecipient recipient;
    Dsn dsn;
};

AttrList to_attrs(const BounceNoticeRequest& request);
// Checks the fields every notice request needs; the text says what is
// wrong.
std::expected<BounceNoticeRequest, std::string> bounce_notice_from_attrs(const AttrList& attrs);

// Sends a notice request to private/<service> and returns the service's
// status (0: done), or an error text when it could not be asked.
std::expected<int, std::string> bounce_notice(const std::string& queue_directory, std::string_view service,
                                              const BounceNoticeRequest& request, int timeout);
std::expected<BounceAppendRequest, std::string> bounce_append_from_attrs(const AttrList& attrs);

// Connects to private/<service> under queue_directory, sends the request
// and waits for the answer; an error text when the service could not be
// reached or said no.
std::expected<void, std::string> bounce_append(const std::string& queue_directory, std::string_view service,
                                               const BounceAppendRequest& request, int timeout);

}  // namespace pf::ipc
