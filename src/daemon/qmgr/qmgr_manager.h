// The queue manager proper: moves mail from incoming/ and deferred/ into
// active/, reads each message's envelope, resolves its recipients through
// trivial-rewrite, hands batches to the delivery agents on
// private/<transport>, and when every recipient of a message has been
// tried, removes the file ("<id>: removed") or moves it to deferred/ with
// its time stamp at the next retry time (the message's age, between
// minimal_backoff_time and maximal_backoff_time). Expired messages are
// returned ("status=expired, returned to sender" and a flush request to
// the defer service); messages past their delay-warning time get a warn
// request and their 'W' record set to -1. Damaged files go to corrupt/.
// Triggers: 'I' and 'W' scan incoming, 'D' deferred, 'F' forgets dead
// transports and destinations and lifts defer_transports for the next
// scans, 'A' ignores the files' time stamps. hold/ is never looked at.
//
// All I/O with other services goes through Hooks so that tests can fake
// them; the defaults talk to the real services. One event loop, no
// threads; the only blocking calls are short requests with timeouts
// (trivial-rewrite, the bounce/defer services, writing a request to an
// agent that has already said it is ready).
//
// Trust: queue files and directory names are checked (qmgr_envelope.h,
// qmgr_scan.h); agents' replies are decoded strictly and a malformed one
// counts as a crashed agent.
#pragma once

#include "daemon/qmgr/qmgr_events.h"
#include "daemon/qmgr/qmgr_scan.h"
#include "daemon/qmgr/qmgr_scheduler.h"
#include "daemon/qmgr/qmgr_settings.h"
#include "ipc/delivery_request.h"
#include "ipc/rewrite_client.h"
#include "ipc/service_client.h"

#include <array>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace pf::qmgr {

struct ManagerHooks {
    // Resolves a recipient: sender, address (internal form).
    std::function<std::expected<ipc::ResolveReply, std::string>(std::string_view, std::string_view)> resolve;
    // Connects to the delivery agent of a transport.
    std::function<std::expected<ipc::ServiceConnection, std::string>(std::string_view)> connect_agent;
    // Records one deferred recipient in the defer log (defer service).
    std::function<std::expected<void, std::string>(const std::string& queue_id, const EnvelopeRecipient&,
                                                   const Dsn&)>
        defer_append;
    // Asks a bounce/defer service for a notice: service, request word
    // ("flush" or "warn"), message. 0 on success.
    std::function<int(std::string_view, std::string_view, const Message&)> notice;
    // Tells the fast-flush service that queue_id waits for site (a
    // deferred recipient's domain), warning when that fails. Unset: not told.
    std::function<void(std::string_view site, const std::string& queue_id)> flush_add;
};

class QueueManager {
public:
    QueueManager(QmgrSettings settings, ParamLookup lookup, QueuePaths paths, Events& events, ManagerHooks hooks);
    ~QueueManager();

    // Defaults for the hooks that talk to the real services.
    static ManagerHooks default_hooks(const QmgrSettings& settings, const std::string& queue_directory);

    // Start-up: leftovers in active/ go back to incoming/ (time stamp now),
    // then the incoming scan starts and the deferred scans are scheduled.
    void start();
    // Bytes written to the trigger socket.
    void trigger(std::string_view bytes);

    std::size_t message_count() const { return messages_.size(); }
    Scheduler& scheduler() { return scheduler_; }

private:
    struct Agent;

    void pump();
    void schedule_pump();
    bool feed_one();
    bool feed(QueueScan& scan, const std::string& id);
    void deferred_run();

    // Reads (the next batch of) recipients and assigns them; false when the
    // file is damaged.
    bool load_recipients(Message& message, std::FILE* fp);
    void resolve_and_assign(Message& message);
    void defer_recipient(Message& message, const EnvelopeRecipient& rcpt, const Dsn& dsn);
    void defer_entries(const std::vector<Entry*>& entries, const Dsn& dsn);
    void arm_dead_queue_timers();
    void active_done(Message* message);
    void finish(Message* message);
    void save_corrupt(const std::string& id);
    void defer_file(std::string_view queue, const std::string& id, std::string_view to, long delay);
    bool recipients_left(const Message& message);
    // Turns the record at offset into a killed one ('K'); fatal when the
    // file cannot be updated, as the reference's.
    void kill_record(const Message& message, long offset);
    void log_recipient(const Message& message, const EnvelopeRecipient& rcpt, const Dsn& dsn, std::string_view status);

    void drain();
    void allocate(Transport& transport);
    void transport_failed(const std::string& transport, std::optional<ipc::ServiceConnection> conn);
    void agent_readable(int fd);
    void close_agent(int fd);
    void agent_ready(Agent& agent);
    void agent_replied(Agent& agent, std::expected<ipc::DeliveryReply, std::string> reply);
    ipc::DeliveryRequest build_request(const Entry& entry);
    // Removes a finished message's file from active/, into the pool of
    // emptied queue files while that has room (queue_file_pool.h); 0 or
    // an errno value.
    int retire_active_file(std::string_view id);

    QmgrSettings settings_;
    ParamLookup lookup_;
    QueuePaths paths_;
    Events& events_;
    ManagerHooks hooks_;
    Scheduler scheduler_;
    std::array<QueueScan, 2> scans_;  // incoming, deferred
    int first_scan_ = 0;
    std::map<std::string, std::unique_ptr<Message>, std::less<>> messages_;
    std::map<int, std::unique_ptr<Agent>> agents_;
    std::map<std::string, Events::TimerId, std::less<>> transport_timers_;
    bool pump_scheduled_ = false;
    bool pumping_ = false;
    bool pump_again_ = false;
    long recipients_in_memory_ = 0;
    // The pool: removals since its size was last counted, and whether it
    // had room then.
    std::size_t pooled_since_count_ = 0;
    bool pool_has_room_ = false;
};

}  // namespace pf::qmgr
