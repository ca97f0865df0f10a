// cleanup(8): the daemon that turns a client's envelope and content
// records into a queue file in incoming/ (or hold/), as the reference's
// cleanup does, over our own client protocol (ipc/services.h,
// ipc/cleanup_client.h):
//   greeting {status=0, queue_id}  ->  {flags}  ->  records ... E
//   ->  {status, reason}  after the file is fsync'ed and marked ready,
// then a 'I' trigger to public/qmgr.
//
// A multi-server: each connection's state lives in a table keyed by its
// descriptor and advances as bytes arrive, so one process serves several
// clients through the skeleton's one event loop. (Under the relay load a
// third of the connections reach a process that already has a client,
// whose file creation and fsync then hold the newcomer up. One client per
// process, as the reference runs cleanup, was measured in session 7: it
// cost more CPU per relayed message, as the concurrent creations and
// renames in incoming/ wait on the directory's lock, spinning in the
// kernel; it accepted held mail about 10 % faster in two runs. Within the
// noise of a loaded machine either way; kept. Measured again in session 8,
// alternating the two in one series of `mta.py --runs 3 accept`: accept
// ratio 1.44 and 1.09 with one client per process, 1.37 and 1.57 with
// several: no difference that the noise does not swamp.)
//
// Privileges: none kept; runs as mail_owner (chrooted when master.cf says
// so). Tables are opened before the privilege drop.
//
// Trust: clients are local programs of ours, but what they carry (headers,
// addresses, body) is outside input; a malformed record or attribute
// rejects the message (never the daemon).
#include "daemon/cleanup/cleanup_session.h"
#include "daemon/cleanup/cleanup_settings.h"

#include "config/config.h"
#include "dict/dict_watch.h"
#include "ipc/attr.h"
#include "ipc/mail_server.h"
#include "ipc/rewrite_client.h"
#include "ipc/service_client.h"
#include "ipc/services.h"
#include "ipc/verify_client.h"
#include "queue/queue_file.h"
#include "queue/record.h"
#include "util/msg.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

namespace pf::cleanup {
namespace {

using util::msg_warn;

// The queue writer seen as the session's sink.
class WriterSink : public QueueSink {
public:
    explicit WriterSink(queue::QueueFileWriter& w) : w_(w) {}
    bool write(char type, std::string_view data) override { return w_.write(type, data); }
    long offset() override { return w_.offset(); }
    // The first record has the same size as its placeholder: written in
    // place with pwrite after a flush, the stream stays at the end of the
    // file (no seek back and forth, no re-read of the last block).
    bool rewrite_first(char type, std::string_view data) override {
        std::FILE* f = w_.stream();
        if (std::fflush(f) != 0) return false;
        std::string encoded = queue::encode_record(type, data);
        return ::pwrite(::fileno(f), encoded.data(), encoded.size(), 0) == static_cast<ssize_t>(encoded.size());
    }

private:
    queue::QueueFileWriter& w_;
};

struct Connection {
    std::optional<queue::QueueFileWriter> writer;
    std::unique_ptr<WriterSink> sink;
    std::unique_ptr<CleanupSession> session;
    std::string buffer;
    bool flags_read = false;
};

struct Daemon {
    std::unique_ptr<CleanupSettings> settings;
    queue::QueueLayout layout;
    std::unique_ptr<ipc::RewriteClient> rewrite;
    ipc::DeliveryAgentSettings agent;  // bounce/defer service names, logging
    std::string queue_directory;
    std::map<int, Connection> clients;
};

Daemon& daemon_state() {
    static Daemon d;
    return d;
}

constexpr int kTimeout = 3600;
constexpr std::size_t kMaxRecord = 1u << 26;

// cleanup's own bounce of a rejected message (cleanup_bounce.cpp): the
// bounce log entries through the bounce service, then the notice request;
// the queue file is flushed first, the bounce service reads its headers.
unsigned bounce(Daemon& d, Connection& c) {
    CleanupSession& s = *c.session;
    // Flushed, and without a pooled file's zeros after the records.
    (void)c.writer->cut_to_written();
    // The reference's file stops at the size limit; the bounce service
    // reads what is there.
    if (s.size_cut() && d.settings->message_size_limit > 0)
        (void)::ftruncate(::fileno(c.writer->stream()), d.settings->message_size_limit);
    ipc::DeliveryRequest request;
    request.queue_name = "incoming";
    request.queue_id = s.queue_id();
    request.times.incoming_arrival = {s.arrival_time(), 0};
    request.times.active_arrival = request.times.agent_handoff = ipc::TimeStamp::now();
    ipc::DeliveryRecorder recorder(d.agent, request);
    recorder.set_append_call([&d, &s](std::string_view service, unsigned flags, const ipc::DeliveryRecipient& rcpt,
                                      const ipc::Dsn& dsn) {
        ipc::BounceAppendRequest req;
        req.flags = flags | ipc::kBounceFlagClean;
        req.queue_id = s.queue_id();
        req.recipient = rcpt;
        req.dsn = dsn;
        return ipc::bounce_append(".", service, req, d.agent.ipc_timeout).has_value();
    });
    return s.bounce(recorder, [&d](const ipc::BounceNoticeRequest& req) {
        auto r = ipc::bounce_notice(".", d.agent.bounce_service, req, d.agent.ipc_timeout);
        if (!r) {
            msg_warn("{}", r.error());
            return -1;
        }
        return *r;
    });
}

// Finishes the message and answers the client; the connection ends.
void finish(Daemon& d, int fd, Connection& c) {
    CleanupSession& s = *c.session;
    unsigned status = s.finish();
    if (status != 0 && s.can_bounce()) status = bounce(d, c);
    // Closing the reference's stream fails when it still holds data that
    // went past the size limit (its bounce path discards that data).
    else if (s.size_cut()) msg_warn("mail_stream_cleanup: close error");
    std::string reason = status == 0 ? std::string() : s.reason();
    bool queued = false;
    if (status == 0 && !s.discard()) {
        if (s.hold()) {
            std::string to = d.layout.path(queue::kHold, s.queue_id(), true);
            std::string hold_abs = d.layout.path(queue::kHold, s.queue_id());
            if (std::rename(c.writer->path().c_str(), to.c_str()) != 0 &&
                std::rename(c.writer->path().c_str(), hold_abs.c_str()) != 0) {
                msg_warn("{}: rename to hold queue: {}", s.queue_id(), std::strerror(errno));
                status |= ipc::kCleanupStatWrite;
            }
        }
        if (status == 0) {
            auto done = c.writer->commit();
            if (!done) {
                msg_warn("{}: {}", s.queue_id(), done.error());
                status |= ipc::kCleanupStatWrite;
            } else {
                queued = true;
            }
        }
    }
    if (!queued) {
        c.writer->abandon();
        // The "alias expanded" records go with the message they describe.
        if (s.traced()) (void)::unlink(d.layout.path(queue::kTraceLog, s.queue_id(), true).c_str());
    }
    ipc::AttrList reply;
    reply.add("status", static_cast<long long>(status));
    reply.add("reason", reason);
    (void)ipc::send_attrs(fd, reply, kTimeout);
    // The wakeup is dropped when qmgr's listen backlog is full, as the
    // reference's: every trigger waiting there makes qmgr scan incoming/
    // after this file was committed. (Waiting for room held this process
    // for up to a second per message under load.)
    if (queued && !s.hold())
        (void)ipc::send_trigger(".", "public", "qmgr", std::string(1, ipc::qmgr_trigger::kScanIncoming), 1,
                                /*wait_for_room=*/false);
}

bool handle_client(ipc::ServerContext&, int fd) {
    Daemon& d = daemon_state();
    auto it = d.clients.find(fd);
    if (it == d.clients.end()) {
        // A new client: open the queue file and tell the client its ID.
        auto writer = queue::QueueFileWriter::create(d.layout, queue::kIncoming, /*from_pool=*/true);
        if (!writer) {
            msg_warn("{}", writer.error());
            ipc::AttrList fail;
            fail.add("status", static_cast<long long>(ipc::kCleanupStatWrite));
            fail.add("queue_id", "");
            (void)ipc::send_attrs(fd, fail, kTimeout);
            return false;
        }
        Connection& c = d.clients[fd];
        c.writer.emplace(std::move(*writer));
        c.sink = std::make_unique<WriterSink>(*c.writer);
        Rewriter rw = [&d](std::string_view context, std::string_view addr) -> std::expected<std::string, std::string> {
            auto r = d.rewrite->rewrite_internal(context, addr);
            if (!r) return std::unexpected(r.error());
            return r->address;
        };
        c.session = std::make_unique<CleanupSession>(*d.settings, *c.sink, c.writer->id(), std::time(nullptr), rw);
        c.session->set_trace_call([&d, id = c.writer->id()](const ipc::DeliveryRecipient& rcpt, const ipc::Dsn& dsn) {
            ipc::BounceAppendRequest req;
            req.flags = ipc::kBounceFlagClean;
            req.queue_id = id;
            req.recipient = rcpt;
            req.dsn = dsn;
            return ipc::bounce_append(".", d.agent.trace_service, req, d.agent.ipc_timeout).has_value();
        });
        // A probe answered here (cleanup_addr.cpp): the verify update and
        // the "status=deliverable" line, relay=none, as an agent's.
        c.session->set_verify_call([&d, id = c.writer->id()](const ipc::DeliveryRecipient& rcpt, const ipc::Dsn& dsn,
                                                             const ipc::TimeStamp& arrival) {
            ipc::DeliveryRequest request;
            request.flags = ipc::kDeliveryMtaVerify;
            request.queue_name = "incoming";
            request.queue_id = id;
            request.times.incoming_arrival = arrival;
            ipc::DeliveryRecorder recorder(d.agent, request);
            recorder.set_verify_call([&d](std::string_view address, int status, std::string_view reason) {
                return ipc::verify_update(".", d.agent.verify_service, address,
                                          static_cast<ipc::RecipientStatus>(status), reason, d.agent.ipc_timeout)
                    .has_value();
            });
            return recorder.sent(rcpt, ipc::kNoRelay, dsn) == 0;
        });
        ipc::AttrList hello;
        hello.add("status", 0LL);
        hello.add("queue_id", c.writer->id());
        if (!ipc::send_attrs(fd, hello, kTimeout)) {
            d.clients.erase(fd);
            return false;
        }
        return true;
    }
    Connection& c = it->second;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    if (n <= 0) {
        // The client went away before E (an aborted SMTP transaction):
        // nothing is queued and nothing more is logged. What its records
        // made us log stays logged, as with the reference (e.g. the
        // message-id of a header block that ended; clients send what they
        // buffered before they close, see ipc/cleanup_client.h).
        d.clients.erase(it);
        return false;
    }
    c.buffer.append(buf, static_cast<std::size_t>(n));
    if (!c.flags_read) {
        std::size_t used = 0;
        auto attrs = ipc::decode_attrs(c.buffer, used);
        if (!attrs) {
            if (attrs.error() == ipc::AttrError::truncated) return true;
            msg_warn("{}: malformed client request", c.session->queue_id());
            d.clients.erase(it);
            return false;
        }
        c.buffer.erase(0, used);
        c.flags_read = true;
        auto flags = attrs->get_number("flags");
        c.session->set_flags(flags ? static_cast<unsigned>(*flags) : 0);
    }
    std::size_t pos = 0;
    bool end_received = false;
    while (!end_received) {
        std::size_t used = 0;
        auto r = queue::decode_record_view(std::string_view(c.buffer).substr(pos), kMaxRecord, used);
        if (!r) {
            if (r.error() == queue::RecordError::truncated || r.error() == queue::RecordError::eof) break;  // need more bytes
            msg_warn("{}: malformed record from client", c.session->queue_id());
            finish(d, fd, c);
            d.clients.erase(fd);
            return false;
        }
        pos += used;
        // After an error the session ignores records; the client still
        // sends up to E before it reads the answer.
        c.session->record(r->type, r->data);
        if (r->type == queue::rec::kEnd) end_received = true;
    }
    c.buffer.erase(0, pos);
    if (!end_received) return true;
    finish(d, fd, c);
    d.clients.erase(fd);
    return false;
}

void pre_init(ipc::ServerContext& ctx) {
    Daemon& d = daemon_state();
    try {
        d.settings = CleanupSettings::from_config(ctx.config);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    d.layout = queue::QueueLayout::from_config(ctx.config);
    d.agent = ipc::DeliveryAgentSettings::from_config(ctx.config);
    d.queue_directory = ctx.config.get("queue_directory");
    // Daemons run chdir'ed to the queue directory (and maybe chrooted).
    d.layout.queue_directory.assign(1, '.');  // (g++ 12 -Wrestrict misfires on = ".")
    d.rewrite = std::make_unique<ipc::RewriteClient>(std::string("."));
}

}  // namespace
}  // namespace pf::cleanup

int main(int argc, char** argv) {
    pf::ipc::ServerHooks hooks;
    hooks.pre_accept = [](pf::ipc::ServerContext&) { pf::dict::exit_if_table_changed(); };  // restart on a rebuilt table
    hooks.pre_init = pf::cleanup::pre_init;
    return pf::ipc::run_multi_server(argc, argv, std::move(hooks), pf::cleanup::handle_client);
}

