// The delivery request qmgr sends to a delivery agent over
// private/<transport> (pipe, discard, error/retry, local, smtp, ...) and
// the agent's reply. Both ends are ours; the request carries what the
// reference's agents get from their queue manager: where the message is
// (queue name, ID, content offset and size), the envelope, the DSN
// parameters, the client attributes that pipe(8) macros expose, the time
// stamps that make the "delay=, delays=a/b/c/d" log fields, and the list
// of recipients with their queue-file offsets.
//
// Conversation on one connection (one request per connection, as the
// reference; the agent may be reused for the next connection):
//   agent → qmgr   {protocol=delivery}            on accept (agent ready)
//   qmgr  → agent  the request (to_attrs below)
//   agent → qmgr   {status=0|1, dsn_status, dsn_action, reason}
// status 0: every recipient reached a final state (sent, bounced, or
// deferred and recorded in the defer log): qmgr forgets them. status 1:
// the agent could not handle some recipients (it could not even record a
// deferral): qmgr defers those it has not seen marked done. dsn_status,
// dsn_action, reason carry a "hop status" when the agent failed as a
// whole (e.g. "4.3.0", "delayed", "mail transport unavailable"): qmgr
// may then throttle the transport or destination (empty otherwise).
//
// Trust: the agent trusts qmgr (same mail system) for the meaning of the
// fields, but a malformed request (missing field, bad number, recipient
// lists of different lengths) is an error value and the agent drops the
// connection.
#pragma once

#include "ipc/attr.h"

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace pf::ipc {

// Request flags, with the reference's meanings.
enum DeliveryFlags : unsigned {
    kDeliverySuccess = 1u << 0,       // mark delivered recipients done in the queue file
    kDeliveryBounce = 1u << 1,        // (reserved, as in the reference)
    kDeliveryMtaVerify = 1u << 8,     // address probe by the MTA: verify only, record in verify db
    kDeliveryUserVerify = 1u << 9,    // address probe by a user (sendmail -bv): record, no delivery
    kDeliveryRecord = 1u << 10,       // deliver and record the result for a trace (sendmail -v)
    kDeliveryConnLoad = 1u << 11,     // smtp: may reuse a cached connection
    kDeliveryConnStore = 1u << 12,    // smtp: may cache the connection
    kDeliveryRecordDelayedSent = 1u << 13,  // record "sent" for a message that was delayed
};
inline constexpr unsigned kDeliveryDefault = kDeliverySuccess | kDeliveryBounce;

// A point in time with microseconds (a struct timeval); zero: not reached.
struct TimeStamp {
    std::int64_t sec = 0;
    std::int64_t usec = 0;
    bool is_set() const { return sec != 0 || usec != 0; }
    static TimeStamp now();
};

// The reference's message statistics, from which the log lines compute
// delay= (deliver_done - incoming_arrival) and delays=a/b/c/d:
//   a: incoming_arrival → active_arrival  (before the queue manager)
//   b: active_arrival → agent_handoff     (in the queue manager)
//   c: agent_handoff → conn_setup_done    (connection set-up)
//   d: conn_setup_done → deliver_done     (transmission)
// qmgr fills the first three; the agent sets the last two.
struct MessageTimes {
    TimeStamp incoming_arrival;   // the queue file's T record (arrival)
    TimeStamp active_arrival;     // when qmgr moved the message to active
    TimeStamp agent_handoff;      // when qmgr sent this request
    TimeStamp conn_setup_done;    // agent: connection/command set up (optional)
    TimeStamp deliver_done;       // agent: when the recipient's outcome is known
    int reuse_count = 0;          // smtp connection reuse count (conn_use=)
};

// One recipient as qmgr read it from the queue file.
struct DeliveryRecipient {
    std::string orig_addr;   // rcpt_orig: the O record before this R ("" when none)
    std::string address;     // rcpt_addr: the R record
    std::string dsn_orcpt;   // rcpt_dsn_orcpt: the o record ("" when none)
    int dsn_notify = 0;      // rcpt_dsn_notify: the n record's bits (0: none given)
    long offset = 0;         // rcpt_offset: offset of the R record (mark it done there)
};

struct DeliveryRequest {
    unsigned flags = kDeliveryDefault;
    std::string queue_name;      // "active" normally
    std::string queue_id;
    long data_offset = 0;        // offset of the first content record (after M)
    long data_size = 0;          // size of the message content in bytes (the C record)
    std::string nexthop;         // the resolved next hop (error/discard: the reason text)
    std::string encoding;        // body type: "" / "7BIT" / "8BITMIME"
    int smtputf8 = 0;            // SMTPUTF8 request bits
    std::string sender;          // envelope sender ("" for the null sender)
    std::string dsn_envid;       // RET/ENVID from the original submission
    int dsn_ret = 0;             // 1 FULL, 2 HDRS, 0 not given
    MessageTimes times;
    // Client attributes (from the queue file's A records) for pipe macros
    // and XFORWARD; "" when unknown.
    std::string client_name;
    std::string client_addr;
    std::string client_port;
    std::string client_proto;
    std::string client_helo;
    std::string sasl_method;
    std::string sasl_username;
    std::string sasl_sender;
    std::string log_ident;        // the queue file's log_ident attribute; empty when it has none (as the reference's qmgr sends it)
    std::string rewrite_context;  // "local" or "remote"
    std::vector<DeliveryRecipient> recipients;
};

// The attribute form of a request: scalar fields by name; recipients as
// rcpt_count=N followed by N groups of rcpt_orig, rcpt_addr,
// rcpt_dsn_orcpt, rcpt_dsn_notify, rcpt_offset in that order.
AttrList to_attrs(const DeliveryRequest& request);
// Checks and converts; an error text on a malformed request.
std::expected<DeliveryRequest, std::string> delivery_request_from_attrs(const AttrList& attrs);

struct DeliveryReply {
    int status = 0;           // 0 final for every recipient, 1 see the header comment
    std::string dsn_status;   // hop status ("" when none)
    std::string dsn_action;
    std::string reason;
};

AttrList to_attrs(const DeliveryReply& reply);
std::expected<DeliveryReply, std::string> delivery_reply_from_attrs(const AttrList& attrs);

// The greeting an agent sends on accept.
AttrList delivery_greeting();
bool is_delivery_greeting(const AttrList& attrs);

// --- Blocking helpers (agents; tests; a simple qmgr) ---

// Agent side: sends the greeting, then reads and decodes one request.
std::expected<DeliveryRequest, std::string> receive_delivery_request(int fd, std::string& buffer, int timeout);
std::expected<void, std::string> send_delivery_reply(int fd, const DeliveryReply& reply, int timeout);

// Client side on a connected fd: waits for the greeting, sends the
// request, waits for the reply (timeout in seconds per step; 0: none).
std::expected<DeliveryReply, std::string> run_delivery_request(int fd, std::string& buffer,
                                                               const DeliveryRequest& request, int timeout);

}  // namespace pf::ipc
