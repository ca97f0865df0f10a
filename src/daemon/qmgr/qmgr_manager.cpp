// The queue manager's message life cycle and agent conversations; see
// qmgr_manager.h.
#include "daemon/qmgr/qmgr_manager.h"

#include "ipc/attr.h"
#include "ipc/bounce_client.h"
#include "ipc/deliver_log.h"
#include "mail/address_quote.h"
#include "queue/queue_file_pool.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

namespace pf::qmgr {

using util::msg_fatal;
using util::msg_info;
using util::msg_warn;

namespace {

constexpr int kIncoming = 0;
constexpr int kDeferred = 1;
constexpr int kMinMessageRecipients = 10;  // qmgr_message_recipient_minimum
constexpr int kMaxBatch = 5000;            // the reference keeps reads short
constexpr int kResolveRetries = 5;
// Trace flags (the delivery request's kDelivery* bits) and the size
// record's "some recipient wants NOTIFY=SUCCESS" read flag.
constexpr int kTraceUserVerify = 1 << 9;
constexpr int kTraceRecord = 1 << 10;
constexpr int kTraceRecordDelayedSent = 1 << 13;
constexpr int kReadFlagNotifySuccess = 2 << 1;
constexpr useconds_t kResolveRetryMicros = 200000;

ipc::TimeStamp now_stamp() { return ipc::TimeStamp::now(); }

long now_seconds() { return static_cast<long>(std::time(nullptr)); }

// The stream's buffer lives in the deleter: it outlasts the fclose.
struct FileCloser {
    std::unique_ptr<char[]> buffer;
    void operator()(std::FILE* f) const {
        if (f != nullptr) std::fclose(f);
    }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Opens a queue file for reading and in-place updates. fopen, not open +
// fdopen (whose fcntl is one more system call per file); a buffer of our
// own (no fstat for the block size) big enough for a typical queue file,
// so that it is read in one call and the seeks over the content stay
// inside the buffer.
File open_queue_file(const std::string& path) {
    constexpr std::size_t kBuffer = 16384;
    std::FILE* f = std::fopen(path.c_str(), "r+e");
    if (f == nullptr) return nullptr;
    FileCloser closer{std::make_unique_for_overwrite<char[]>(kBuffer)};
    std::setvbuf(f, closer.buffer.get(), _IOFBF, kBuffer);
    return File(f, std::move(closer));
}

ipc::DeliveryRecipient to_ipc(const EnvelopeRecipient& r) {
    return ipc::DeliveryRecipient{r.orig_addr, r.address, r.dsn_orcpt, r.dsn_notify, r.offset};
}

bool is_local_class(unsigned flags) { return (flags & ipc::kResolveClassLocal) != 0; }

}  // namespace

struct QueueManager::Agent {
    enum class State { greeting, reply };
    ipc::ServiceConnection conn;
    std::string transport;
    State state = State::greeting;
    Entry* entry = nullptr;
    Events::TimerId timer = 0;
};

QueueManager::QueueManager(QmgrSettings settings, ParamLookup lookup, QueuePaths paths, Events& events,
                           ManagerHooks hooks)
    : settings_(settings),
      lookup_(lookup),
      paths_(std::move(paths)),
      events_(events),
      hooks_(std::move(hooks)),
      scheduler_(std::move(settings), std::move(lookup)),
      scans_{QueueScan(std::string(queue::kIncoming)), QueueScan(std::string(queue::kDeferred))} {}

QueueManager::~QueueManager() {
    for (auto& [fd, agent] : agents_) {
        events_.unwatch_fd(fd);
        if (agent->timer) events_.cancel_timer(agent->timer);
    }
}

ManagerHooks QueueManager::default_hooks(const QmgrSettings& settings, const std::string& queue_directory) {
    ManagerHooks hooks;
    auto rewrite = std::make_shared<ipc::RewriteClient>(queue_directory, settings.ipc_timeout);
    hooks.resolve = [rewrite](std::string_view sender, std::string_view address) {
        return rewrite->resolve(sender, address);
    };
    int timeout = settings.ipc_timeout;
    hooks.connect_agent = [queue_directory, timeout](std::string_view transport) {
        return ipc::connect_service(queue_directory, "private", transport, timeout);
    };
    std::string defer_service = settings.defer_service;
    hooks.defer_append = [queue_directory, defer_service, timeout](const std::string& id, const EnvelopeRecipient& r,
                                                                   const Dsn& dsn) -> std::expected<void, std::string> {
        ipc::BounceAppendRequest request;
        request.queue_id = id;
        request.recipient = to_ipc(r);
        request.dsn = ipc::Dsn::simple(dsn.status, dsn.reason);
        request.dsn.action = "delayed";
        return ipc::bounce_append(queue_directory, defer_service, request, timeout);
    };
    hooks.notice = [queue_directory, timeout](std::string_view service, std::string_view request,
                                              const Message& m) -> int {
        // The notice requests belong to the bounce service (issue 5); the
        // attribute names follow the append request's conventions.
        ipc::AttrList attrs;
        attrs.add("request", std::string(request));
        attrs.add("flags", static_cast<long long>(m.env.tflags));
        attrs.add("queue_name", m.queue_name);
        attrs.add("queue_id", m.queue_id);
        attrs.add("encoding", m.env.encoding);
        attrs.add("smtputf8", static_cast<long long>(m.env.sendopts));
        attrs.add("sender", m.env.sender);
        attrs.add("dsn_envid", m.env.dsn_envid);
        attrs.add("dsn_ret", static_cast<long long>(m.env.dsn_ret));
        if (!m.env.verp_delims.empty()) attrs.add("verp_delims", m.env.verp_delims);
        auto conn = ipc::connect_service(queue_directory, "private", service, timeout);
        if (!conn) {
            msg_warn("connect to private/{}: {}", service, conn.error());
            return -1;
        }
        if (!conn->send(attrs, timeout)) return -1;
        auto reply = conn->receive(timeout);
        if (!reply) return -1;
        auto status = reply->get_number("status");
        return status && *status == 0 ? 0 : -1;
    };
    return hooks;
}

// --- start-up and triggers ---------------------------------------------

void QueueManager::start() {
    // Leftovers of an earlier run go back to incoming/ with the time stamp
    // "now", so that the incoming queue (which has priority) takes them.
    long now = now_seconds();
    for (const auto& id : list_queue(paths_, queue::kActive)) {
        if (!queue::is_queue_id(id)) {
            msg_warn("qmgr_move: ignored: queue {} id {}", queue::kActive, id);
            continue;
        }
        std::string path = paths_.path(queue::kActive, id);
        struct utimbuf tb{now, now};
        if (utime(path.c_str(), &tb) < 0) {
            if (errno != ENOENT) msg_fatal("qmgr_move: update {} time stamps: {}", path, std::strerror(errno));
            msg_warn("qmgr_move: update {} time stamps: {}", path, std::strerror(errno));
            continue;
        }
        if (int err = move_queue_file(paths_, id, queue::kActive, queue::kIncoming)) {
            if (err != ENOENT)
                msg_fatal("qmgr_move: rename {} from {} to {}: {}", id, queue::kActive, queue::kIncoming,
                          std::strerror(err));
            msg_warn("qmgr_move: rename {} from {} to {}: {}", id, queue::kActive, queue::kIncoming,
                     std::strerror(err));
        }
    }
    scans_[kIncoming].request(paths_, kScanStart);
    deferred_run();
    pump();
}

void QueueManager::deferred_run() {
    scans_[kDeferred].request(paths_, kScanStart);
    events_.add_timer(std::chrono::seconds(settings_.queue_run_delay), [this] {
        deferred_run();
        pump();
    });
}

void QueueManager::trigger(std::string_view bytes) {
    unsigned incoming = 0, deferred = 0;
    for (char c : bytes) {
        switch (c) {
        case 'W':  // wakeup from master
        case 'I':
            incoming |= kScanStart;
            break;
        case 'D':
            deferred |= kScanStart;
            break;
        case 'F':
            incoming |= kFlushOnce | kFlushDfxp;
            deferred |= kFlushOnce | kFlushDfxp;
            break;
        case 'A':
            incoming |= kScanAll;
            deferred |= kScanAll;
            break;
        default:
            if (util::msg_verbose) msg_info("request ignored");
            break;
        }
    }
    if ((incoming | deferred) & kFlushOnce) {
        scheduler_.revive_all();
        for (auto& [name, id] : transport_timers_) events_.cancel_timer(id);
        transport_timers_.clear();
    }
    if (incoming) scans_[kIncoming].request(paths_, incoming);
    if (deferred) scans_[kDeferred].request(paths_, deferred);
    pump();
}

// --- the main loop step ------------------------------------------------

void QueueManager::schedule_pump() {
    if (pump_scheduled_) return;
    pump_scheduled_ = true;
    events_.add_timer(std::chrono::milliseconds(0), [this] {
        pump_scheduled_ = false;
        pump();
    });
}

void QueueManager::pump() {
    if (pumping_) {
        pump_again_ = true;
        return;
    }
    pumping_ = true;
    do {
        pump_again_ = false;
        drain();
        if (feed_one()) schedule_pump();
        drain();
    } while (pump_again_);
    pumping_ = false;
}

bool QueueManager::feed_one() {
    bool found = false;
    int last = first_scan_;
    for (int i = 0; i < 2 && static_cast<int>(messages_.size()) < settings_.active_limit; ++i) {
        last = (first_scan_ + i) % 2;
        std::string id = scans_[last].next(paths_);
        if (id.empty()) continue;
        found = true;
        if (feed(scans_[last], id)) break;
    }
    if (static_cast<int>(messages_.size()) < settings_.active_limit)
        first_scan_ = (last + 1) % 2;
    else
        first_scan_ = kIncoming;
    return found;
}

void QueueManager::drain() {
    while (Transport* t = scheduler_.select_transport()) allocate(*t);
}

// --- bringing a message into the active queue ----------------------------

bool QueueManager::feed(QueueScan& scan, const std::string& id) {
    struct stat st;
    if (!queue_file_ok(paths_, scan.queue(), id, st)) return false;
    if ((scan.flags() & kScanAll) == 0 && st.st_mtime > std::time(nullptr) + 1) return false;
    if (messages_.contains(id)) return false;
    if (int err = move_queue_file(paths_, id, scan.queue(), queue::kActive)) {
        if (err != ENOENT)
            msg_fatal("qmgr_active_feed: {}: rename from {} to {}: {}", id, scan.queue(), queue::kActive,
                      std::strerror(err));
        msg_warn("qmgr_active_feed: {}: rename from {} to {}: {}", id, scan.queue(), queue::kActive,
                 std::strerror(err));
        return false;
    }
    auto message = std::make_unique<Message>();
    message->queue_id = id;
    message->qflags = scan.flags();
    message->times.active_arrival = now_stamp();
    std::string path = paths_.path(queue::kActive, id);
    File fp = open_queue_file(path);
    if (!fp) {
        if (errno != ENOENT) msg_fatal("open {} {}: {}", queue::kActive, id, std::strerror(errno));
        msg_warn("open {} {}: {}", queue::kActive, id, std::strerror(errno));
        save_corrupt(id);
        return false;
    }
    if (flock(fileno(fp.get()), LOCK_EX | LOCK_NB) < 0) {
        msg_info("{}: skipped, still being delivered", id);
        fp.reset();
        defer_file(queue::kActive, id, queue::kIncoming, 60);
        return false;
    }
    // flush(8)'s send_file marks a file with the group-read bit: this
    // message may use transports and destinations thought dead, and
    // defer_transports do not hold it. The mark goes once it is seen.
    if (st.st_mode & S_IRGRP) {
        message->qflags |= kFlushEach | kFlushDfxp;
        if (fchmod(fileno(fp.get()), st.st_mode & 07777 & ~S_IRGRP) < 0)
            msg_fatal("fchmod {}: {}", path, std::strerror(errno));
    }
    if (!load_recipients(*message, fp.get())) {
        fp.reset();
        save_corrupt(id);
        return false;
    }
    // A defer log from an earlier attempt describes recipients we are about
    // to try again.
    if (int err = remove_queue_file(paths_, queue::kDeferLog, id); err != 0 && err != ENOENT)
        msg_fatal("qmgr_message_alloc: {}: remove {} {}: {}", id, queue::kDeferLog, id, std::strerror(err));
    Message* raw = message.get();
    messages_.emplace(id, std::move(message));
    resolve_and_assign(*raw);
    fp.reset();
    if (raw->refcount == 0) active_done(raw);
    return true;
}

bool QueueManager::load_recipients(Message& message, std::FILE* fp) {
    int limit;
    if (message.env.rcpt_offset > 0) {
        limit = std::max<int>(kMinMessageRecipients, static_cast<int>(settings_.recipient_limit - recipients_in_memory_));
    } else {
        limit = static_cast<int>(settings_.recipient_limit - recipients_in_memory_);
        if (limit < kMinMessageRecipients) limit = kMinMessageRecipients;
    }
    if (limit > kMaxBatch) limit = kMaxBatch;
    // A first read starts where a stream just opened is: no seek.
    if (!read_envelope(fp, message.queue_id, message.env, limit, message.env.rcpt_offset == 0)) return false;
    // After a delay warning, the sender hears when the delay is over.
    if (settings_.confirm_delay_cleared && message.env.warn_time < 0) message.env.tflags |= kTraceRecordDelayedSent;
    message.times.incoming_arrival = ipc::TimeStamp{message.env.arrival_sec, message.env.arrival_usec};
    return true;
}

void QueueManager::resolve_and_assign(Message& message) {
    auto& env = message.env;
    std::vector<EnvelopeRecipient> recipients = std::move(env.recipients);
    env.recipients.clear();
    std::vector<EnvelopeRecipient> keep;
    std::vector<Route> routes;
    constexpr int kTraceOnly = (1 << 8) | (1 << 9);
    if (env.have_redirect && !recipients.empty()) {
        // The redirect target replaces every recipient (once per message).
        recipients.resize(1);
        recipients[0].address = env.redirect;
        env.rcpt_offset = 0;
        env.rcpt_unread = 0;
    }
    for (auto& rcpt : recipients) {
        Route route;
        unsigned flags = 0;
        if (env.have_filter && (env.tflags & kTraceOnly) == 0) {
            auto colon = env.filter.find(':');
            route.transport = env.filter.substr(0, colon);
            std::string nexthop = colon == std::string::npos ? std::string() : env.filter.substr(colon + 1);
            if (nexthop.empty()) {
                nexthop = settings_.default_filter_nexthop;
                if (nexthop.empty()) {
                    auto at = rcpt.address.rfind('@');
                    if (at != std::string::npos && at + 1 < rcpt.address.size())
                        nexthop = rcpt.address.substr(at + 1);
                    else
                        nexthop = settings_.myhostname;
                }
            }
            route.nexthop = nexthop;
        } else {
            auto reply = hooks_.resolve(env.sender, rcpt.address);
            // The reference waits for trivial-rewrite to come back; we wait
            // a little (it may be starting), then defer through retry.
            for (int attempt = 0; !reply && attempt < kResolveRetries; ++attempt) {
                usleep(kResolveRetryMicros);
                reply = hooks_.resolve(env.sender, rcpt.address);
            }
            if (!reply || reply->is_fail()) {
                if (!reply) msg_warn("{}: address resolver: {}", message.queue_id, reply.error());
                route = Route{settings_.retry_service, "4.3.0 address resolver failure"};
            } else if (reply->is_error()) {
                route = Route{settings_.error_service, "5.1.3 bad address syntax"};
            } else {
                route = Route{reply->transport, reply->nexthop};
                flags = reply->flags;
                if (reply->recipient != rcpt.address) rcpt.address = reply->recipient;
            }
        }
        if (rcpt.address.empty()) route = Route{settings_.error_service, "5.1.3 null recipient address"};
        // Mail to the local double-bounce address is discarded here, so a
        // system can run without a local delivery agent.
        if (is_local_class(flags)) {
            auto at = rcpt.address.rfind('@');
            std::string_view local = std::string_view(rcpt.address).substr(0, at);
            if (util::iequals(local, settings_.double_bounce_sender)) {
                Dsn dsn{"2.0.0", "undeliverable postmaster notification discarded"};
                log_recipient(message, rcpt, dsn, "sent");
                std::string path = paths_.path(queue::kActive, message.queue_id);
                int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
                bool marked = fd >= 0 && queue::mark_record(fd, rcpt.offset, queue::rec::kDone).has_value();
                if (fd >= 0) ::close(fd);
                if (!marked) message.defer = true;
                continue;
            }
        }
        if (!message.rcpt_offsets_overflow) {
            if (message.rcpt_offsets.size() < Message::kMaxRcptOffsets) {
                message.rcpt_offsets.push_back(rcpt.offset);
            } else {
                message.rcpt_offsets_overflow = true;
                message.rcpt_offsets = {};
            }
        }
        keep.push_back(std::move(rcpt));
        routes.push_back(std::move(route));
    }
    long before = message.rcpt_count;
    auto deferrals = scheduler_.assign(message, std::move(keep), std::move(routes));
    recipients_in_memory_ += message.rcpt_count - before;
    for (auto& d : deferrals) defer_recipient(message, d.recipient, d.dsn);
    arm_dead_queue_timers();
}

// --- deferrals -------------------------------------------------------------

void QueueManager::log_recipient(const Message& message, const EnvelopeRecipient& rcpt, const Dsn& dsn,
                                 std::string_view status) {
    ipc::DeliveryLogSettings log_settings;
    log_settings.resolution_limit = settings_.delay_resolution;
    ipc::Dsn d = ipc::Dsn::simple(dsn.status, dsn.reason);
    msg_info("{}", ipc::delivery_log_line(message.queue_id, message.times, to_ipc(rcpt), "none", d, status,
                                          log_settings, now_stamp()));
}

void QueueManager::defer_recipient(Message& message, const EnvelopeRecipient& rcpt, const Dsn& dsn) {
    if (hooks_.defer_append) {
        if (auto ok = hooks_.defer_append(message.queue_id, rcpt, dsn); !ok)
            msg_warn("{}: {} service failure", message.queue_id, settings_.defer_service);
    }
    log_recipient(message, rcpt, dsn, "deferred");
    message.defer = true;
    // As every deferral in the reference: the fast-flush log of the
    // recipient's domain learns about the message.
    if (auto at = rcpt.address.rfind('@'); hooks_.flush_add && at != std::string::npos && at + 1 < rcpt.address.size())
        hooks_.flush_add(std::string_view(rcpt.address).substr(at + 1), message.queue_id);
}

void QueueManager::defer_entries(const std::vector<Entry*>& entries, const Dsn& dsn) {
    for (Entry* entry : entries) {
        for (const auto& rcpt : entry->recipients) defer_recipient(*entry->message, rcpt, dsn);
        recipients_in_memory_ -= static_cast<long>(entry->recipients.size());
        if (Message* done = scheduler_.entry_done(entry)) active_done(done);
    }
    arm_dead_queue_timers();
}

void QueueManager::arm_dead_queue_timers() {
    for (auto& [transport, queue] : scheduler_.take_newly_dead()) {
        events_.add_timer(std::chrono::seconds(settings_.min_backoff), [this, transport, queue] {
            scheduler_.unthrottle_queue(transport, queue);
            pump();
        });
    }
    for (auto& [transport, queue] : scheduler_.take_newly_suspended()) {
        Transport* t = scheduler_.find_transport(transport);
        int delay = t ? t->limits.rate_delay : 1;
        events_.add_timer(std::chrono::seconds(delay), [this, transport, queue] {
            scheduler_.resume_queue(transport, queue);
            pump();
        });
    }
}

// --- finishing a message ---------------------------------------------------

void QueueManager::kill_record(const Message& message, long offset) {
    std::string path = paths_.path(queue::kActive, message.queue_id);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) msg_fatal("update queue file {}: {}", path, std::strerror(errno));
    auto done = queue::mark_record(fd, offset, queue::rec::kKill, false);
    ::close(fd);
    if (!done) msg_fatal("update queue file {}: {}", path, done.error());
}

void QueueManager::save_corrupt(const std::string& id) {
    if (int err = move_queue_file(paths_, id, queue::kActive, queue::kCorrupt)) {
        if (err != ENOENT)
            msg_fatal("qmgr_active_corrupt: save corrupt file queue {} id {}: {}", queue::kActive, id,
                      std::strerror(err));
    } else {
        msg_warn("saving corrupt file \"{}\" from queue \"{}\" to queue \"{}\"", id, queue::kActive, queue::kCorrupt);
    }
}

void QueueManager::defer_file(std::string_view from, const std::string& id, std::string_view to, long delay) {
    std::string path = paths_.path(from, id);
    long when = now_seconds() + delay;
    struct utimbuf tb{when, when};
    if (utime(path.c_str(), &tb) < 0 && errno != ENOENT)
        msg_fatal("qmgr_active_defer: update {} time stamps: {}", path, std::strerror(errno));
    if (int err = move_queue_file(paths_, id, from, to)) {
        if (err != ENOENT)
            msg_fatal("qmgr_active_defer: rename {} from {} to {}: {}", id, from, to, std::strerror(err));
        msg_warn("qmgr_active_defer: rename {} from {} to {}: {}", id, from, to, std::strerror(err));
    }
}

bool QueueManager::recipients_left(const Message& message) {
    // Safety net beyond the reference: a file that still holds recipients
    // not marked done is never removed, whatever the agents answered.
    // Usually the type byte of each recipient handed out is enough (an
    // agent marks a recipient done by changing it in place).
    if (!message.rcpt_offsets_overflow) {
        int fd = ::open(paths_.path(queue::kActive, message.queue_id).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return false;
        bool left = false;
        for (long offset : message.rcpt_offsets) {
            char type = 0;
            if (::pread(fd, &type, 1, offset) != 1) break;
            if (type == queue::rec::kRcpt) {
                left = true;
                break;
            }
        }
        ::close(fd);
        return left;
    }
    File fp = open_queue_file(paths_.path(queue::kActive, message.queue_id));
    if (!fp) return false;
    long data_offset = message.env.data_offset, data_size = message.env.data_size;
    long curr = 0;  // followed here: ftell is a system call per record
    for (;;) {
        if (curr == data_offset && curr > 0) {
            if (std::fseek(fp.get(), data_size, SEEK_CUR) < 0) return false;
            curr += data_size;
        }
        std::size_t consumed = 0;
        auto record = queue::read_record(fp.get(), 1 << 20, &consumed);
        if (!record) return false;
        curr += static_cast<long>(consumed);
        if (record->type == queue::rec::kEnd) return false;
        if (record->type == queue::rec::kRcpt) return true;
        if (record->type == queue::rec::kPointer) {
            long target = std::atol(record->data.c_str());
            if (target <= 0 || std::fseek(fp.get(), target, SEEK_SET) < 0) return false;
            curr = target;
        }
    }
}

void QueueManager::active_done(Message* message) {
    const std::string id = message->queue_id;
    // A bounce log left by the agents: ask for the non-delivery notice.
    struct stat st;
    bool bounce_notice = false;
    std::string bounce_path = paths_.path(queue::kBounceLog, id);
    if (stat(bounce_path.c_str(), &st) == 0) {
        if (st.st_size == 0) {
            if (unlink(bounce_path.c_str()) < 0)
                msg_fatal("remove {} {}: {}", queue::kBounceLog, id, std::strerror(errno));
        } else if (!hooks_.notice || hooks_.notice(settings_.bounce_service, "flush", *message) != 0) {
            message->defer = true;
        } else {
            bounce_notice = true;
        }
    }
    // A delivery agent marks a damaged file by taking away its "ready" mode.
    if (message->defer && !queue_file_ok(paths_, queue::kActive, id, st)) {
        save_corrupt(id);
        finish(message);
        return;
    }
    // More recipients on file: read the next batch.
    if (message->env.rcpt_offset > 0) {
        File fp = open_queue_file(paths_.path(queue::kActive, id));
        if (!fp || !load_recipients(*message, fp.get())) {
            fp.reset();
            save_corrupt(id);
            finish(message);
            return;
        }
        resolve_and_assign(*message);
        fp.reset();
        if (message->refcount == 0) active_done(message);
        return;
    }
    // A delivery status report (sendmail -v, sendmail -bv, DSN
    // NOTIFY=SUCCESS, confirm_delay_cleared): the trace service mails what
    // the agents recorded in the trace log. Once it is sent, the
    // trace_flags record of a sendmail -v message is killed, so that a
    // later retry does not report again.
    if ((message->env.tflags & (kTraceUserVerify | kTraceRecord | kTraceRecordDelayedSent)) ||
        (message->env.rflags & kReadFlagNotifySuccess)) {
        // The reference asks for its notices without waiting for them: its
        // loop moves the non-delivery notice (announced by cleanup) into the
        // active queue before it asks for the delivery report, so the sender
        // gets the two in that order. Same here: activate what arrived.
        if (bounce_notice) {
            for (const std::string& notice_id : list_queue(paths_, queue::kIncoming)) {
                if (static_cast<int>(messages_.size()) >= settings_.active_limit) break;
                feed(scans_[kIncoming], notice_id);
            }
        }
        int status = hooks_.notice ? hooks_.notice(settings_.trace_service, "trace", *message) : -1;
        if (status == 0 && message->env.tflags_offset > 0) kill_record(*message, message->env.tflags_offset);
        if (status != 0) message->defer = true;
    }
    // (Not after a REDIRECT: the reference delivers to the redirect target
    // once and leaves the other recipients unmarked in the removed file.)
    if (!message->defer && !message->env.have_redirect && recipients_left(*message)) message->defer = true;
    if (message->defer) {
        long now = now_seconds();
        long lifetime = message->env.sender.empty() ? settings_.bounce_queue_lifetime : settings_.max_queue_lifetime;
        if (now >= message->env.create_time + lifetime) {
            msg_info("{}: from=<{}>, status=expired, returned to sender", id,
                     mail::address_for_log(message->env.sender));
            int status = hooks_.notice ? hooks_.notice(settings_.defer_service, "flush", *message) : -1;
            message->defer = status != 0;
        } else if (message->env.warn_time > 0 && now >= message->env.warn_time - 1) {
            if (hooks_.notice && hooks_.notice(settings_.defer_service, "warn", *message) == 0) {
                // Mark the warning as sent: W record becomes -1 in place.
                File fp = open_queue_file(paths_.path(queue::kActive, id));
                bool ok = fp && std::fseek(fp.get(), message->env.warn_offset, SEEK_SET) == 0 &&
                          queue::write_record(fp.get(), queue::rec::kWarn, fmt::format("{:15}", -1)) &&
                          std::fflush(fp.get()) == 0;
                if (!ok) msg_fatal("update queue file {}: {}", paths_.path(queue::kActive, id), std::strerror(errno));
            }
        }
    }
    if (message->defer) {
        long delay = settings_.min_backoff;
        if (message->env.create_time > 0) {
            delay = now_seconds() - message->env.create_time;
            if (delay > settings_.max_backoff) delay = settings_.max_backoff;
            if (delay < settings_.min_backoff) delay = settings_.min_backoff;
        }
        defer_file(queue::kActive, id, queue::kDeferred, delay);
    } else if (int err = retire_active_file(id)) {
        if (err != ENOENT)
            msg_fatal("qmgr_active_done_3_generic: remove {} from {}: {}", id, queue::kActive, std::strerror(err));
        msg_warn("qmgr_active_done_3_generic: remove {} from {}: {}", id, queue::kActive, std::strerror(err));
    } else {
        msg_info("{}: removed", id);
    }
    finish(message);
}

int QueueManager::retire_active_file(std::string_view id) {
    constexpr std::size_t kRecount = 256;
    const std::string pool_dir = paths_.dir(queue::kRecycle);
    if (pooled_since_count_ == 0 || pooled_since_count_ >= kRecount) {
        pool_has_room_ = ::access(pool_dir.c_str(), W_OK) == 0 &&
                         queue::count_pooled_files(pool_dir) < queue::kPoolLimit;
        pooled_since_count_ = 0;
    }
    ++pooled_since_count_;  // removals since the count, pooled or not
    std::string path = paths_.path(queue::kActive, id);
    if (pool_has_room_ && queue::recycle_queue_file(path, pool_dir, id)) return 0;
    return ::unlink(path.c_str()) == 0 ? 0 : errno;
}

void QueueManager::finish(Message* message) {
    messages_.erase(message->queue_id);
    schedule_pump();
}

// --- delivery agents -------------------------------------------------------

void QueueManager::allocate(Transport& transport) {
    transport.pending++;
    std::string name = transport.name;
    auto conn = hooks_.connect_agent(name);
    if (!conn) {
        msg_warn("connect to transport private/{}: {}", name, conn.error());
        events_.add_timer(std::chrono::milliseconds(0), [this, name] {
            transport_failed(name, std::nullopt);
            pump();
        });
        return;
    }
    int fd = conn->fd();
    auto agent = std::make_unique<Agent>();
    agent->conn = std::move(*conn);
    agent->transport = name;
    agent->timer = events_.add_timer(std::chrono::seconds(settings_.daemon_timeout), [this, fd, name] {
        auto it = agents_.find(fd);
        if (it == agents_.end()) return;
        it->second->timer = 0;
        msg_warn("timeout connecting to transport: {}", name);
        close_agent(fd);
        transport_failed(name, std::nullopt);
        pump();
    });
    agents_.emplace(fd, std::move(agent));
    events_.watch_fd(fd, [this, fd] {
        agent_readable(fd);
        pump();
    });
}

void QueueManager::transport_failed(const std::string& name, std::optional<ipc::ServiceConnection>) {
    Transport* t = scheduler_.find_transport(name);
    if (t == nullptr) return;
    if (t->pending > 0) t->pending--;
    Dsn dsn{"4.3.0", "mail transport unavailable"};
    bool was_dead = t->dead;
    auto sync = scheduler_.throttle_transport(*t, dsn);
    if (!was_dead) {
        transport_timers_[name] = events_.add_timer(std::chrono::seconds(settings_.transport_retry_time), [this, name] {
            transport_timers_.erase(name);
            if (Transport* tt = scheduler_.find_transport(name)) scheduler_.unthrottle_transport(*tt);
            pump();
        });
    }
    defer_entries(sync, dsn);
}

void QueueManager::close_agent(int fd) {
    auto it = agents_.find(fd);
    if (it == agents_.end()) return;
    events_.unwatch_fd(fd);
    if (it->second->timer) events_.cancel_timer(it->second->timer);
    agents_.erase(it);  // closes the connection
}

void QueueManager::agent_readable(int fd) {
    auto it = agents_.find(fd);
    if (it == agents_.end()) return;
    Agent& agent = *it->second;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    std::string& buffer = agent.conn.buffer();
    if (n > 0) buffer.append(buf, static_cast<std::size_t>(n));
    std::size_t used = 0;
    auto attrs = ipc::decode_attrs(buffer, used);
    if (!attrs && attrs.error() == ipc::AttrError::truncated && n > 0) return;  // wait for more
    if (attrs) buffer.erase(0, used);
    std::string path = "private/" + agent.transport;
    if (agent.state == Agent::State::greeting) {
        std::string name = agent.transport;
        bool good = attrs && ipc::is_delivery_greeting(*attrs);
        if (!good) msg_warn("{}: {}", path, attrs || n <= 0 ? (n <= 0 ? "premature disconnect" : "malformed response")
                                                             : "malformed response");
        if (!good) {
            close_agent(fd);
            transport_failed(name, std::nullopt);
            return;
        }
        agent_ready(agent);
        return;
    }
    if (!attrs) {
        msg_warn("{}: {}", path, n <= 0 ? "premature disconnect" : "malformed response");
        agent_replied(agent, std::unexpected(std::string("crash")));
        return;
    }
    auto reply = ipc::delivery_reply_from_attrs(*attrs);
    if (!reply) msg_warn("{}: malformed response", path);
    agent_replied(agent, std::move(reply));
}

ipc::DeliveryRequest QueueManager::build_request(const Entry& entry) {
    const Message& m = *entry.message;
    ipc::DeliveryRequest r;
    r.flags = static_cast<unsigned>(m.env.tflags) |
              (m.env.have_inspect ? ipc::kDeliveryBounce : ipc::kDeliveryDefault);
    // The destination's connection caching bits (qmgr_scheduler.cpp).
    r.flags |= entry.queue->dflags;
    r.queue_name = m.queue_name;
    r.queue_id = m.queue_id;
    r.data_offset = m.env.data_offset;
    r.data_size = m.env.cont_length;
    r.nexthop = entry.queue->nexthop();
    r.encoding = m.env.encoding;
    r.smtputf8 = m.env.sendopts;
    r.sender = m.env.sender;
    if (!m.env.verp_delims.empty() && !entry.recipients.empty() && !m.env.sender.empty()) {
        // VERP: prefix+recipient=domain@origin (one recipient per request).
        const std::string& rcpt = entry.recipients.front().address;
        auto at = m.env.sender.rfind('@');
        std::string local = m.env.sender.substr(0, at);
        std::string domain = at == std::string::npos ? std::string() : m.env.sender.substr(at);
        std::string encoded = rcpt;
        auto ra = encoded.rfind('@');
        if (ra != std::string::npos) encoded[ra] = m.env.verp_delims[1];
        r.sender = local + m.env.verp_delims[0] + encoded + domain;
    }
    r.dsn_envid = m.env.dsn_envid;
    r.dsn_ret = m.env.dsn_ret;
    r.times = m.times;
    r.times.agent_handoff = now_stamp();
    r.client_name = m.env.client_name;
    r.client_addr = m.env.client_addr;
    r.client_port = m.env.client_port;
    r.client_proto = m.env.client_proto;
    r.client_helo = m.env.client_helo;
    r.sasl_method = m.env.sasl_method;
    r.sasl_username = m.env.sasl_username;
    r.sasl_sender = m.env.sasl_sender;
    // As the reference: the queue file's log_ident, or "" (agents log
    // with the queue ID; smtp forwards no IDENT, local passes none on).
    r.log_ident = m.env.log_ident;
    r.rewrite_context = m.env.rewrite_context;
    for (const auto& rcpt : entry.recipients) r.recipients.push_back(to_ipc(rcpt));
    return r;
}

void QueueManager::agent_ready(Agent& agent) {
    int fd = agent.conn.fd();
    std::string name = agent.transport;
    Transport* t = scheduler_.find_transport(name);
    if (t == nullptr) {
        close_agent(fd);
        return;
    }
    if (t->pending > 0) t->pending--;
    Entry* entry = scheduler_.select_entry(*t);
    if (entry == nullptr) {
        close_agent(fd);
        return;
    }
    auto sent = agent.conn.send(ipc::to_attrs(build_request(*entry)), settings_.ipc_timeout);
    if (!sent) {
        msg_warn("write to process ({}): {}", name, ipc::attr_error_text(sent.error()));
        scheduler_.unselect(entry);
        close_agent(fd);
        transport_failed(name, std::nullopt);
        return;
    }
    agent.state = Agent::State::reply;
    agent.entry = entry;
    if (agent.timer) events_.cancel_timer(agent.timer);
    std::string id = entry->message->queue_id;
    agent.timer = events_.add_timer(std::chrono::seconds(settings_.daemon_timeout), [this, fd, id, name] {
        auto it = agents_.find(fd);
        if (it == agents_.end()) return;
        it->second->timer = 0;
        msg_warn("{}: timeout receiving delivery status from transport: {}", id, name);
        agent_replied(*it->second, std::unexpected(std::string("timeout")));
        pump();
    });
}

void QueueManager::agent_replied(Agent& agent, std::expected<ipc::DeliveryReply, std::string> reply) {
    Entry* entry = agent.entry;
    close_agent(agent.conn.fd());
    if (entry == nullptr) return;
    bool crashed = !reply.has_value();
    bool deferred = reply && reply->status != 0;
    std::optional<Dsn> hop;
    if (reply && !reply->dsn_status.empty()) hop = Dsn{reply->dsn_status, reply->reason};
    auto sync = scheduler_.delivery_result(entry, crashed, deferred, hop);
    arm_dead_queue_timers();
    if (!sync.empty()) {
        Dsn d = sync.front()->queue->dead_reason().value_or(Dsn{"4.3.0", "delivery temporarily suspended"});
        defer_entries(sync, d);
    }
    recipients_in_memory_ -= static_cast<long>(entry->recipients.size());
    if (Message* done = scheduler_.entry_done(entry)) active_done(done);
    arm_dead_queue_timers();
}

}  // namespace pf::qmgr
