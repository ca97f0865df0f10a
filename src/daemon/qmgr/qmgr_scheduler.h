// The queue manager's in-memory scheduling state: messages in the active
// queue, transports (one per master.cf delivery service that mail resolved
// to), per-destination queues under each transport, and entries (a batch
// of one message's recipients for one destination, at most the transport's
// recipient limit). It reproduces the reference's rules for
//  - where a recipient goes: a dead transport or destination, or a
//    transport listed in defer_transports, sends the recipient to the
//    "retry" transport with the reason as next hop (or, when retry is dead
//    too, back to the caller for an immediate deferral); a transport with a
//    recipient limit of 1 gets one queue per recipient (localpart without
//    extension @ nexthop, lower case);
//  - which delivery goes next: transports round robin, each allowed two
//    pending agent connections, destinations round robin within their
//    concurrency windows;
//  - what a failure does: a failed agent connection throttles the whole
//    transport (its waiting entries go to retry), a delivery whose agent
//    reports a hop-level problem shrinks the destination's window and may
//    declare it dead (its waiting entries go to retry);
//  - rate limits: after each delivery to a destination of a transport with
//    a rate delay, that destination pauses (window suspended) until the
//    caller resumes it, so that deliveries there are one at a time and
//    spaced by the delay.
// No I/O and no timers here: the caller (qmgr_manager) connects, logs and
// arms the timers the return values ask for. Unit-testable alone.
//
// Not reproduced: the reference's job/peer preemption scheduler (slot
// cost, loan, discount) - entries are served first come, first served per
// destination.
#pragma once

#include "daemon/qmgr/qmgr_envelope.h"
#include "daemon/qmgr/qmgr_queue.h"
#include "daemon/qmgr/qmgr_settings.h"
#include "ipc/delivery_request.h"

#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::qmgr {

// Scan flags, as the reference's qmgr names them.
enum ScanFlags : unsigned {
    kScanStart = 1u << 0,   // start a scan
    kScanAll = 1u << 1,     // ignore the files' time stamps
    kFlushOnce = 1u << 2,   // forget dead destinations and transports now
    kFlushDfxp = 1u << 3,   // override defer_transports
    kFlushEach = 1u << 4,   // revive this message's dead transports and destinations (flush send_file)
};

struct Message {
    std::string queue_id;
    std::string queue_name = "active";
    unsigned qflags = 0;
    Envelope env;
    ipc::MessageTimes times;
    int refcount = 0;     // entries not yet done
    bool defer = false;   // some recipient must be tried again
    long rcpt_count = 0;  // recipients in memory
    // Where the recipients handed to the scheduler are on file, for the
    // last check before removal (QueueManager::recipients_left); after
    // kMaxRcptOffsets of them the check reads the whole file instead.
    static constexpr std::size_t kMaxRcptOffsets = 1000;
    std::vector<long> rcpt_offsets;
    bool rcpt_offsets_overflow = false;
};

struct Transport;

struct Entry {
    Message* message = nullptr;
    Transport* transport = nullptr;
    DestQueue* queue = nullptr;
    std::vector<EnvelopeRecipient> recipients;
    bool busy = false;
};

struct Transport {
    std::string name;
    TransportLimits limits;
    bool dead = false;
    std::optional<Dsn> dead_reason;
    int pending = 0;  // agent connections being set up
    std::map<std::string, std::unique_ptr<DestQueue>, std::less<>> queues;
    std::list<DestQueue*> order;  // round robin
};

// Where the resolver sent a recipient.
struct Route {
    std::string transport;
    std::string nexthop;
};

// The reference's on-demand connection caching bits of q (dflags) when an
// entry of q was just selected at time now (seconds).
void update_connection_caching(DestQueue& q, long now);

class Scheduler {
public:
    static constexpr int kMaxPending = 2;  // agent connections per transport

    Scheduler(QmgrSettings settings, ParamLookup lookup);

    const QmgrSettings& settings() const { return settings_; }
    Transport& transport(std::string_view name);
    Transport* find_transport(std::string_view name);
    DestQueue* find_queue(std::string_view transport, std::string_view queue);
    const std::list<Transport*>& transports() const { return order_; }

    // Recipients that could not be queued and must be deferred at once.
    struct Deferral {
        EnvelopeRecipient recipient;
        Dsn dsn;
    };
    // Puts one batch of a message's (resolved) recipients into entries; the
    // message's refcount grows by the entries made. routes[i] belongs to
    // recipients[i].
    std::vector<Deferral> assign(Message& message, std::vector<EnvelopeRecipient> recipients,
                                 std::vector<Route> routes);

    // The next transport that should get an agent connection (round
    // robin), or null.
    Transport* select_transport();
    // An entry to hand to a connected agent of this transport (moved to
    // busy), or null when nothing fits any more.
    Entry* select_entry(Transport& transport);
    // Puts a busy entry back to the front of its todo list.
    void unselect(Entry* entry);

    // The agent's answer for a busy entry: hop_problem is the agent's hop
    // status ("delivery temporarily suspended: ..." is prepended to the
    // reason as the reference does) or nullopt. Updates the destination's
    // window; returns the entries the caller must defer at once (when the
    // destination died and retry is unavailable), after which the caller
    // calls entry_done on each.
    std::vector<Entry*> delivery_result(Entry* entry, bool crashed, bool deferred, const std::optional<Dsn>& hop_problem);
    // Removes an entry; returns its message when that was its last entry.
    Message* entry_done(Entry* entry);

    // A transport whose agent cannot be reached: marks it dead and returns
    // the waiting entries the caller must defer at once (the others went to
    // retry). The caller revives it after transport_retry_time.
    std::vector<Entry*> throttle_transport(Transport& transport, const Dsn& dsn);
    void unthrottle_transport(Transport& transport);
    // Revives a dead destination (after minimal_backoff_time); removes it
    // when it is empty.
    void unthrottle_queue(std::string_view transport, std::string_view queue);
    // Forgets every dead transport and destination (postqueue -f).
    void revive_all();
    // Destinations that died in the last delivery_result/assign call, for
    // the caller's revival timers.
    std::vector<std::pair<std::string, std::string>> take_newly_dead();
    // Destinations of rate-limited transports (T_destination_rate_delay)
    // suspended by the last entry_done call: the caller resumes each after
    // the transport's rate delay.
    std::vector<std::pair<std::string, std::string>> take_newly_suspended();
    // Ends a destination's rate-delay pause (window 1 again); removes it
    // when it is empty.
    void resume_queue(std::string_view transport, std::string_view queue);

    std::size_t entry_count() const { return entries_.size(); }

private:
    DestQueue& queue(Transport& transport, const std::string& name, const std::string& nexthop);
    // The retry queue for a reason, or null when retry is dead.
    DestQueue* retry_queue(const Dsn& dsn);
    std::vector<Entry*> defer_todo(DestQueue& queue, const Dsn& dsn);
    void maybe_remove(Transport& transport, DestQueue& queue);
    Entry* new_entry(Message& message, Transport& transport, DestQueue& queue);

    QmgrSettings settings_;
    ParamLookup lookup_;
    std::map<std::string, std::unique_ptr<Transport>, std::less<>> transports_;
    std::list<Transport*> order_;
    std::map<Entry*, std::unique_ptr<Entry>> entries_;
    std::vector<std::pair<std::string, std::string>> newly_dead_;
    std::vector<std::pair<std::string, std::string>> newly_suspended_;
};

// "status reason": the retry transport's next hop for a deferral reason.
std::string error_nexthop(const Dsn& dsn);
// The lower-cased queue name of a recipient for a one-recipient transport.
std::string per_recipient_queue_name(std::string_view recipient, std::string_view nexthop,
                                     std::string_view delimiters);

}  // namespace pf::qmgr
