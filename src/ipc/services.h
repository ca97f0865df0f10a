// The requests our daemons exchange, one place for every attribute name.
// All are attribute lists (attr.h) unless said otherwise. The owner of a
// service's server side also writes its client helper (named below).
//
// cleanup (public/cleanup; client helper ipc/cleanup_client.h)
//   server → client  {status=0, queue_id=<id>}  on connect
//   client → server  {flags=<CleanupFlags bits>}
//   client → server  queue-file records (record.h framing), from the
//                    envelope (T? F S R O A... ) through M, the content
//                    (N/L), X, extracted records, to E
//   server → client  {status=<CleanupStatus bits>, reason=<text>}
//
// trivial-rewrite (private/rewrite; client helper ipc/rewrite_client.h)
//   {request=rewrite, rule=local|remote, address=A}
//       → {flags=<ResolveFlags>, address=A'}
//   {request=resolve|verify, sender=S, address=A}
//       → {flags=<ResolveFlags>, transport=T, nexthop=N, recipient=R}
//
// qmgr (public/qmgr, a trigger service): bytes from QmgrTrigger.
// pickup (public/pickup, a trigger service): any byte means "scan maildrop".
// flush (public/flush): see issue 6.
//
// delivery agents (private/<transport>; request codec
// ipc/delivery_request.h, owned with the agents)
//   qmgr → agent    the delivery request (queue_name, queue_id, offset,
//                   data_size, nexthop, sender, arrival times, client
//                   attributes, and per recipient: rcpt_orig, rcpt_addr,
//                   rcpt_dsn_orcpt, rcpt_dsn_notify, rcpt_offset)
//   agent → qmgr    {status=0|1} after it has logged each recipient,
//                   marked delivered ones done in the queue file and
//                   appended deferred/bounced ones to the defer/bounce logs
//                   through the bounce service.
//
// bounce, defer, trace (private/bounce, private/defer, private/trace;
// client helper ipc/bounce_client.h)
//   {request=append, queue_id, rcpt_orig, rcpt_addr, rcpt_offset,
//    rcpt_dsn_orcpt, rcpt_dsn_notify, dsn_status, dsn_action, reason,
//    relay...}  → {status=0|-1}   (the log file format is the reference's)
//   {request=flush|warn|...} for non-delivery notices: issue 5.
#pragma once

namespace pf::ipc {

// Bits the cleanup client sends (the reference's cleanup flags, in meaning).
enum CleanupFlags : unsigned {
    kCleanupBounce = 1u << 0,     // bounce bad mail instead of rejecting it
    kCleanupFilter = 1u << 1,     // run header/body checks
    kCleanupHold = 1u << 2,       // put the message on hold
    kCleanupDiscard = 1u << 3,    // discard the message
    kCleanupBccOk = 1u << 4,      // always_bcc and *_bcc_maps apply
    kCleanupMapOk = 1u << 5,      // canonical/virtual/masquerade apply
    kCleanupMilter = 1u << 6,     // milters apply
    kCleanupSmtpReply = 1u << 7,  // reason text is an SMTP reply
    kCleanupSmtputf8 = 1u << 8,   // the client asked for SMTPUTF8 (SMTP MAIL FROM ... SMTPUTF8)
    kCleanupAutoUtf8 = 1u << 9,   // request SMTPUTF8 when an address or header is UTF-8
                                  // (smtputf8_autodetect_classes lists the client's class)
};

// Bits cleanup returns (0: queued).
enum CleanupStatus : unsigned {
    kCleanupStatBad = 1u << 0,    // internal protocol error
    kCleanupStatWrite = 1u << 1,  // queue file write error: defer
    kCleanupStatSize = 1u << 2,   // message too large
    kCleanupStatCont = 1u << 3,   // content rejected (header/body checks)
    kCleanupStatHops = 1u << 4,   // too many hops
    kCleanupStatRcpt = 1u << 5,   // no recipients
    kCleanupStatProxy = 1u << 6,  // before-queue proxy error
    kCleanupStatDefer = 1u << 8,  // temporary lookup error: defer
};

// Resolve flags and address classes.
enum ResolveFlags : unsigned {
    kResolveFinal = 1u << 0,     // final delivery, no relaying further
    kResolveRouted = 1u << 1,    // user@domain was routed (percent/bang hack)
    kResolveError = 1u << 2,     // bad address syntax
    kResolveFail = 1u << 3,      // lookup failed: try again later
    kResolveClassLocal = 1u << 8,
    kResolveClassAlias = 1u << 9,
    kResolveClassVirtual = 1u << 10,
    kResolveClassRelay = 1u << 11,
    kResolveClassDefault = 1u << 12,
};

// Bytes written to qmgr's trigger socket.
namespace qmgr_trigger {
inline constexpr char kScanIncoming = 'I';  // new mail in incoming
inline constexpr char kScanDeferred = 'D';  // scan deferred now
inline constexpr char kFlushDead = 'F';     // forget dead destinations (postqueue -f)
inline constexpr char kWakeup = 'W';        // periodic wakeup from master
inline constexpr char kScanAll = 'A';       // ignore the time stamps (postqueue -f)
}  // namespace qmgr_trigger

}  // namespace pf::ipc
