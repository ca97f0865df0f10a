// Client side of the cleanup service (services.h): what pickup (and later
// smtpd and the other injectors) use to hand one message to cleanup.
//
// The conversation, both sides ours, on one stream connection to
// <queue_directory>/public/<cleanup_service_name>:
//   1. server -> client  {status=0, queue_id=<id>}      (attr.h message)
//      A status other than 0, or no queue_id, means cleanup could not
//      create a queue file: the client gives up (and retries later).
//   2. client -> server  {flags=<CleanupFlags bits, decimal>} (sent in one
//      block with the first records of step 3)
//   3. client -> server  queue-file records in record.h framing, exactly
//      the stream the reference's injector gives the reference's cleanup:
//        envelope:  T? c? F? S A* (R | O R | D ...)*  and the other
//                   envelope types the reference allows (W, P, V, <, i,
//                   o, n, r, e, f ...),
//        M          start of content,
//        N / L      content lines (L: continued in the next record),
//        X          start of the extracted segment,
//        R, O, ...  extracted envelope records (sendmail -t: none here,
//                   cleanup extracts from headers when the "f"/flags ask),
//        E          end of message.
//      The client sends E last and nothing after it.
//   4. server -> client  {status=<CleanupStatus bits, decimal>,
//                         reason=<text, may be empty>}
//      status 0: the queue file is complete and fsync'ed (the client may
//      now acknowledge or delete its copy). Otherwise the message was not
//      queued; cleanup_strerror() gives the reference's wording.
//   A server that closes the connection early, or a malformed reply, is an
//   error value (the client treats it as "try again later").
//
// Records are buffered and written in blocks; a write error (peer gone)
// is remembered and reported by the next write() or by finish().
//
// Trust: the server is another of our daemons; its reply is still parsed
// strictly (attr.h limits) and a malformed one is an error.
#pragma once

#include "ipc/attr.h"
#include "ipc/service_client.h"

#include <expected>
#include <string>
#include <string_view>

namespace pf::ipc {

// Seconds to wait on cleanup (the reference's ipc_timeout default).
inline constexpr int kCleanupTimeout = 3600;

struct CleanupReply {
    unsigned status = 0;   // CleanupStatus bits, 0: queued
    std::string reason;    // server's text (may be empty)
};

// The reference's text for the most severe bit set in status ("Success"
// for 0), e.g. "queue file write error", "message file too big", "no
// recipients specified"; severity order: defer, proxy, bad, rcpt, hops,
// size, cont, write.
std::string_view cleanup_strerror(unsigned status);

class CleanupClient {
public:
    // Connects to public/<service> under queue_directory, reads the
    // greeting and queues flags. Error: errno-style or protocol text.
    static std::expected<CleanupClient, std::string> open(const std::string& queue_directory,
                                                          std::string_view service, unsigned flags,
                                                          int timeout = kCleanupTimeout);
    // Same on an already connected stream (tests: socketpair).
    static std::expected<CleanupClient, std::string> attach(ServiceConnection connection, unsigned flags,
                                                            int timeout = kCleanupTimeout);

    CleanupClient(CleanupClient&&) noexcept = default;
    CleanupClient& operator=(CleanupClient&& other) noexcept;
    // Closing without finish() still sends what write() buffered (best
    // effort, then the connection closes): cleanup then sees those records
    // and the end of input, as the reference's cleanup does when its
    // client's stream is closed before E (it logs e.g. the message-id of a
    // header block that ended before removing the file).
    ~CleanupClient();

    // The queue ID cleanup assigned (from its greeting).
    const std::string& queue_id() const { return queue_id_; }
    // The connection's descriptor (to wait in an event loop for the
    // verdict after E was flushed).
    int fd() const { return connection_.fd(); }

    // Queues one record; error once the connection is broken.
    std::expected<void, std::string> write(char type, std::string_view data);
    // An 'A' record "name=value".
    std::expected<void, std::string> write_attr(std::string_view name, std::string_view value);
    // Flushes what is buffered (write() does this itself now and then).
    std::expected<void, std::string> flush();
    // Flushes and waits for the server's verdict. Call after the E record.
    std::expected<CleanupReply, std::string> finish();

private:
    CleanupClient() = default;
    void drain() noexcept;
    ServiceConnection connection_;
    std::string queue_id_;
    std::string pending_;
    std::string error_;   // first write error, sticky
    int timeout_ = kCleanupTimeout;
};

}  // namespace pf::ipc
