// The queue manager's scheduling state; see qmgr_scheduler.h.
#include "daemon/qmgr/qmgr_scheduler.h"

#include "util/msg.h"
#include "util/strings.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <numeric>

namespace pf::qmgr {

namespace {

constexpr std::string_view kRetry = "retry";
constexpr std::string_view kError = "error";
constexpr std::string_view kSuspended = "delivery temporarily suspended: ";

std::string lowercase(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The reference's test of a DSN status "d.ddd.ddd" with d in 2, 4, 5.
bool valid_dsn_status(std::string_view s) {
    if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
    std::size_t i = 2, digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
    if (digits == 0 || digits > 3 || i >= s.size() || s[i] != '.') return false;
    ++i;
    digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
    return digits > 0 && digits <= 3 && i == s.size();
}

}  // namespace

std::string error_nexthop(const Dsn& dsn) { return dsn.status + " " + dsn.reason; }

std::string per_recipient_queue_name(std::string_view recipient, std::string_view nexthop,
                                     std::string_view delimiters) {
    auto at = recipient.rfind('@');
    std::string local(at == std::string_view::npos ? recipient : recipient.substr(0, at));
    // Drop the address extension so that extensions get no extra slots.
    if (!delimiters.empty()) {
        auto pos = local.find_first_of(delimiters);
        if (pos != std::string::npos && pos > 0) local.resize(pos);
    }
    return lowercase(local + "@" + std::string(nexthop));
}

Scheduler::Scheduler(QmgrSettings settings, ParamLookup lookup)
    : settings_(std::move(settings)), lookup_(std::move(lookup)) {}

Transport& Scheduler::transport(std::string_view name) {
    if (auto* t = find_transport(name)) return *t;
    auto t = std::make_unique<Transport>();
    t->name = std::string(name);
    t->limits = TransportLimits::for_transport(name, lookup_, settings_);
    auto* raw = t.get();
    transports_.emplace(t->name, std::move(t));
    order_.push_front(raw);
    return *raw;
}

Transport* Scheduler::find_transport(std::string_view name) {
    auto it = transports_.find(name);
    return it == transports_.end() ? nullptr : it->second.get();
}

DestQueue* Scheduler::find_queue(std::string_view transport, std::string_view queue) {
    auto* t = find_transport(transport);
    if (t == nullptr) return nullptr;
    auto it = t->queues.find(queue);
    return it == t->queues.end() ? nullptr : it->second.get();
}

DestQueue& Scheduler::queue(Transport& transport, const std::string& name, const std::string& nexthop) {
    auto it = transport.queues.find(name);
    if (it != transport.queues.end()) return *it->second;
    auto q = std::make_unique<DestQueue>(name, nexthop, transport.limits);
    auto* raw = q.get();
    transport.queues.emplace(name, std::move(q));
    transport.order.push_back(raw);
    return *raw;
}

DestQueue* Scheduler::retry_queue(const Dsn& dsn) {
    auto& retry = transport(kRetry);
    if (retry.dead) return nullptr;
    std::string name = error_nexthop(dsn);
    auto& q = queue(retry, name, name);
    if (q.dead()) return nullptr;
    return &q;
}

Entry* Scheduler::new_entry(Message& message, Transport& transport, DestQueue& queue) {
    auto entry = std::make_unique<Entry>();
    entry->message = &message;
    entry->transport = &transport;
    entry->queue = &queue;
    auto* raw = entry.get();
    entries_.emplace(raw, std::move(entry));
    queue.todo.push_back(raw);
    message.refcount++;
    return raw;
}

std::vector<Scheduler::Deferral> Scheduler::assign(Message& message, std::vector<EnvelopeRecipient> recipients,
                                                   std::vector<Route> routes) {
    std::vector<Deferral> deferrals;
    struct Placed {
        Transport* transport;
        DestQueue* queue;
        EnvelopeRecipient recipient;
    };
    std::vector<Placed> placed;
    for (std::size_t i = 0; i < recipients.size() && i < routes.size(); ++i) {
        Route route = routes[i];
        if ((message.qflags & kFlushDfxp) == 0 &&
            std::find(settings_.defer_transports.begin(), settings_.defer_transports.end(), route.transport) !=
                settings_.defer_transports.end()) {
            route = Route{std::string(kRetry), "4.3.2 deferred transport"};
        }
        Transport* t = &transport(route.transport);
        if ((message.qflags & kFlushEach) && t->dead) unthrottle_transport(*t);
        if (t->dead) {
            Dsn saved = t->dead_reason.value_or(Dsn{"4.3.0", "mail transport unavailable"});
            auto& retry = transport(kRetry);
            if (retry.dead) {
                deferrals.push_back({std::move(recipients[i]), saved});
                continue;
            }
            t = &retry;
            route.nexthop = error_nexthop(saved);
        }
        std::string name = route.nexthop;
        if (t->name != kError && t->name != kRetry && t->limits.recipient_limit == 1)
            name = per_recipient_queue_name(recipients[i].address, route.nexthop, settings_.recipient_delimiter);
        else
            name = lowercase(name);
        DestQueue* q = &queue(*t, name, route.nexthop);
        if ((message.qflags & kFlushEach) && q->dead()) q->positive_feedback();
        if (q->dead()) {
            Dsn saved = q->dead_reason().value_or(Dsn{"4.3.0", "destination unavailable"});
            q = retry_queue(saved);
            if (q == nullptr) {
                deferrals.push_back({std::move(recipients[i]), saved});
                continue;
            }
            t = find_transport(kRetry);
        }
        placed.push_back({t, q, std::move(recipients[i])});
    }
    // The reference sorts by transport, queue, recipient domain, address.
    std::stable_sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) {
        if (a.transport->name != b.transport->name) return a.transport->name < b.transport->name;
        if (a.queue->name() != b.queue->name()) return a.queue->name() < b.queue->name();
        auto da = a.recipient.address.rfind('@');
        auto db = b.recipient.address.rfind('@');
        if ((da == std::string::npos) != (db == std::string::npos)) return db == std::string::npos;
        if (da != std::string::npos) {
            auto la = lowercase(a.recipient.address.substr(da));
            auto lb = lowercase(b.recipient.address.substr(db));
            if (la != lb) return la < lb;
        }
        return a.recipient.address < b.recipient.address;
    });
    std::map<DestQueue*, Entry*> last;
    bool single = !message.env.verp_delims.empty();
    for (auto& p : placed) {
        Entry*& entry = last[p.queue];
        int limit = p.transport->limits.recipient_limit;
        if (single || entry == nullptr ||
            (limit != 0 && static_cast<int>(entry->recipients.size()) >= limit))
            entry = new_entry(message, *p.transport, *p.queue);
        entry->recipients.push_back(std::move(p.recipient));
        message.rcpt_count++;
    }
    return deferrals;
}

Transport* Scheduler::select_transport() {
    for (auto it = order_.begin(); it != order_.end(); ++it) {
        Transport* t = *it;
        if (t->dead || t->pending >= kMaxPending) continue;
        int need = t->pending + 1;
        for (auto* q : t->order) {
            if (!q->ready()) continue;
            need -= std::min<int>(q->window() - q->busy, static_cast<int>(q->todo.size()));
            if (need <= 0) {
                order_.erase(it);
                order_.push_back(t);
                return t;
            }
        }
    }
    return nullptr;
}

// On-demand connection caching, as the reference's queue manager asks for
// it: once deliveries to a destination run back to back (one finished
// within the last second), the agent may take cached connections and keep
// new ones; when neither back-to-back nor concurrent deliveries remain it
// may still take but no longer keep them (cached connections are used up
// before new ones are made).
void update_connection_caching(DestQueue& q, long now) {
    const bool back_to_back = q.last_done + 1 >= now;
    if ((q.dflags & ipc::kDeliveryConnStore) == 0) {
        if (back_to_back) q.dflags |= ipc::kDeliveryConnLoad | ipc::kDeliveryConnStore;
    } else if (!(q.busy > 1 || back_to_back)) {
        q.dflags &= ~static_cast<unsigned>(ipc::kDeliveryConnStore);
    }
}

Entry* Scheduler::select_entry(Transport& transport) {
    for (auto it = transport.order.begin(); it != transport.order.end(); ++it) {
        DestQueue* q = *it;
        if (!q->ready() || q->todo.empty() || q->busy >= q->window()) continue;
        Entry* entry = q->todo.front();
        q->todo.pop_front();
        q->busy_entries.push_back(entry);
        q->busy++;
        entry->busy = true;
        update_connection_caching(*q, static_cast<long>(std::time(nullptr)));
        transport.order.erase(it);
        transport.order.push_back(q);
        return entry;
    }
    return nullptr;
}

void Scheduler::unselect(Entry* entry) {
    DestQueue* q = entry->queue;
    q->busy_entries.remove(entry);
    q->busy--;
    entry->busy = false;
    q->todo.push_front(entry);
}

std::vector<Entry*> Scheduler::defer_todo(DestQueue& q, const Dsn& dsn) {
    std::vector<Entry*> sync;
    DestQueue* retry = retry_queue(dsn);
    Transport* retry_transport = find_transport(kRetry);
    if (retry == &q) retry = nullptr;
    auto todo = std::move(q.todo);
    q.todo.clear();
    for (Entry* entry : todo) {
        if (retry != nullptr) {
            entry->queue = retry;
            entry->transport = retry_transport;
            retry->todo.push_back(entry);
        } else {
            q.todo.push_back(entry);
            sync.push_back(entry);
        }
    }
    return sync;
}

std::vector<Entry*> Scheduler::delivery_result(Entry* entry, bool crashed, bool deferred,
                                               const std::optional<Dsn>& hop_problem) {
    std::vector<Entry*> sync;
    DestQueue* q = entry->queue;
    Transport* t = entry->transport;
    std::optional<Dsn> hop = hop_problem;
    if (crashed) hop = Dsn{"4.3.0", "unknown mail transport error"};
    if (crashed || deferred) {
        entry->message->defer = true;
        if (hop && !hop->status.empty()) {
            Dsn d = *hop;
            if (!valid_dsn_status(d.status)) d.status = "4.0.0";
            if (d.reason.empty()) d.reason = "unknown error";
            d.reason = std::string(kSuspended) + d.reason;
            if (q->ready()) {
                q->negative_feedback(d);
                if (q->dead()) {
                    newly_dead_.emplace_back(t->name, q->name());
                    sync = defer_todo(*q, d);
                }
            }
        }
    }
    if (!crashed) {
        unthrottle_transport(*t);
        if (!hop || hop->status.empty()) {
            if (q->ready() || q->dead()) q->positive_feedback();
        }
    }
    return sync;
}

Message* Scheduler::entry_done(Entry* entry) {
    auto it = entries_.find(entry);
    if (it == entries_.end()) util::msg_panic("qmgr: unknown queue entry");
    DestQueue* q = entry->queue;
    Transport* t = entry->transport;
    if (entry->busy) {
        q->busy_entries.remove(entry);
        q->busy--;
    } else {
        q->todo.remove(entry);
    }
    const bool was_busy = entry->busy;
    if (was_busy) q->last_done = static_cast<long>(std::time(nullptr));
    Message* message = entry->message;
    message->refcount--;
    message->rcpt_count -= static_cast<long>(entry->recipients.size());
    entries_.erase(it);
    // A rate-limited destination pauses after each delivery (its window
    // is 1: nothing else is in flight there).
    if (was_busy && t->limits.rate_delay > 0) {
        if (q->dead()) q->positive_feedback();
        if (q->ready()) {
            q->suspend();
            newly_suspended_.emplace_back(t->name, q->name());
        }
    }
    maybe_remove(*t, *q);
    return message->refcount == 0 ? message : nullptr;
}

void Scheduler::maybe_remove(Transport& transport, DestQueue& q) {
    if (!q.ready() || !q.todo.empty() || q.busy != 0) return;
    transport.order.remove(&q);
    transport.queues.erase(q.name());
}

std::vector<Entry*> Scheduler::throttle_transport(Transport& t, const Dsn& dsn) {
    std::vector<Entry*> sync;
    if (!t.dead) {
        t.dead = true;
        t.dead_reason = dsn;
    }
    std::vector<DestQueue*> queues(t.order.begin(), t.order.end());
    for (DestQueue* q : queues) {
        auto part = defer_todo(*q, dsn);
        sync.insert(sync.end(), part.begin(), part.end());
    }
    for (DestQueue* q : queues) {
        bool listed = std::find(t.order.begin(), t.order.end(), q) != t.order.end();
        bool has_sync = std::any_of(sync.begin(), sync.end(), [q](Entry* e) { return e->queue == q; });
        if (listed && !has_sync) maybe_remove(t, *q);
    }
    return sync;
}

void Scheduler::unthrottle_transport(Transport& t) {
    t.dead = false;
    t.dead_reason.reset();
}

void Scheduler::unthrottle_queue(std::string_view transport_name, std::string_view queue_name) {
    auto* t = find_transport(transport_name);
    if (t == nullptr) return;
    auto it = t->queues.find(queue_name);
    if (it == t->queues.end()) return;
    DestQueue& q = *it->second;
    if (q.dead()) q.positive_feedback();
    maybe_remove(*t, q);
}

void Scheduler::revive_all() {
    for (auto* t : order_) {
        unthrottle_transport(*t);
        std::vector<std::string> names;
        for (auto& [name, q] : t->queues)
            if (q->dead()) names.push_back(name);
        for (auto& name : names) unthrottle_queue(t->name, name);
    }
}

std::vector<std::pair<std::string, std::string>> Scheduler::take_newly_suspended() {
    return std::exchange(newly_suspended_, {});
}

void Scheduler::resume_queue(std::string_view transport_name, std::string_view queue_name) {
    auto* t = find_transport(transport_name);
    if (t == nullptr) return;
    auto it = t->queues.find(queue_name);
    if (it == t->queues.end()) return;
    DestQueue& q = *it->second;
    if (!q.suspended()) return;
    q.resume();
    maybe_remove(*t, q);
}

std::vector<std::pair<std::string, std::string>> Scheduler::take_newly_dead() {
    return std::exchange(newly_dead_, {});
}

}  // namespace pf::qmgr
