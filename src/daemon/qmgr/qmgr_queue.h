// One per-destination queue of the queue manager: the recipients of one
// transport that go to one next hop (or, for transports that take one
// recipient per delivery, to one recipient at that next hop), and the
// concurrency window that limits parallel deliveries there.
//
// The window follows the reference's feedback rules: it starts at the
// transport's initial concurrency; a delivery without a connection-level
// problem adds positive feedback (one window step per hysteresis, while the
// window is below busy + initial and below the concurrency limit); a failed
// one adds negative feedback (the window shrinks, never below 1) and counts
// 1/window of a "failed pseudo-cohort"; after the cohort limit the
// destination is dead (window 0) with a reason, until the caller revives it
// (after minimal_backoff_time) or a later success does.
//
// It also carries the on-demand connection caching state the reference's
// queue manager keeps per destination (dflags, last_done): see
// Scheduler::select_entry.
//
// Pure state: no timers, no I/O; the scheduler and tests drive it.
#pragma once

#include "daemon/qmgr/qmgr_settings.h"

#include <list>
#include <optional>
#include <string>

namespace pf::qmgr {

struct Dsn {
    std::string status;  // "4.3.0"
    std::string reason;  // "mail transport unavailable"
    bool operator==(const Dsn&) const = default;
};

struct Entry;

class DestQueue {
public:
    static constexpr int kDead = 0;        // throttled: window 0
    static constexpr int kSuspended = -1;  // waiting for the rate delay

    DestQueue(std::string name, std::string nexthop, const TransportLimits& limits);

    const std::string& name() const { return name_; }
    const std::string& nexthop() const { return nexthop_; }
    int window() const { return window_; }
    bool ready() const { return window_ > 0; }
    bool dead() const { return window_ == kDead; }
    bool suspended() const { return window_ == kSuspended; }
    const std::optional<Dsn>& dead_reason() const { return dead_reason_; }
    double fail_cohorts() const { return fail_cohorts_; }

    // Free delivery slots: how many more entries may be delivered now.
    int free_slots() const { return ready() ? window_ - busy : 0; }

    // A delivery went well (the reference's unthrottle): revives a dead
    // destination (window = busy or the initial concurrency) or grows the
    // window.
    void positive_feedback();
    // A delivery failed at the connection level: shrinks the window; may
    // declare the destination dead (then dead() is true and dead_reason()
    // is set; the caller arranges the revival).
    void negative_feedback(const Dsn& reason);
    void suspend() { window_ = kSuspended; }
    void resume() { window_ = 1; }

    std::list<Entry*> todo;   // entries waiting for delivery, oldest first
    std::list<Entry*> busy_entries;
    int busy = 0;             // entries being delivered
    // Delivery request flags for this destination (the connection cache
    // bits kDeliveryConnLoad/kDeliveryConnStore), and when a delivery
    // here last finished (seconds; back-to-back deliveries).
    unsigned dflags = 0;
    long last_done = 0;

private:
    std::string name_;
    std::string nexthop_;
    const TransportLimits& limits_;
    int window_;
    double success_ = 0;
    double failure_ = 0;
    double fail_cohorts_ = 0;
    std::optional<Dsn> dead_reason_;
};

}  // namespace pf::qmgr
