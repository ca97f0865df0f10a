// The request cycle every delivery agent shares (discard, error/retry,
// pipe, local, virtual, smtp, ...): read one delivery request from qmgr,
// open the queue file it names, let the agent deliver, answer qmgr with
// the overall status. As the reference's agents: a request that cannot be
// read is a warning and the connection is dropped; a queue file that has
// gone away (or has a bad name) is a warning and no reply; any other open
// failure is fatal (the agent is restarted by master).
//
// run_delivery_agent() is the whole main() of a single-server agent built
// on that cycle (discard, error, pipe, virtual): the agent settings and
// queue layout read at start-up, queue_directory read again after a
// chroot, extra master.cf arguments refused unless the agent takes them,
// and for the agents that keep root (pipe, virtual) the mail_owner
// account looked up and used as the effective ids between deliveries.
//
// Trust: requests come from qmgr (same mail system); the codec checks
// their shape.
#pragma once

#include "ipc/deliver_completion.h"
#include "ipc/deliver_queue_file.h"
#include "ipc/delivery_request.h"
#include "ipc/mail_server.h"
#include "queue/queue_file.h"

#include <functional>
#include <sys/types.h>

namespace pf::ipc {

// Delivers the request's message; returns 0 when every recipient reached
// a final state (or was recorded as deferred), non-zero otherwise.
using DeliverMessage = std::function<int(DeliveryRequest& request, DeliveryQueueFile& file)>;

// One request on fd, start to finish. Always returns false (the
// single-server skeleton's "do not keep the connection").
bool serve_delivery_request(int fd, const DeliveryAgentSettings& settings, const queue::QueueLayout& layout,
                            const DeliverMessage& deliver);

// Marks a recipient done in the queue file when its outcome is final
// (status 0); a failed mark is fatal, as the reference's. mark_only_if is
// false to skip the mark (a "sent" recipient of a request without
// kDeliverySuccess). Returns status, for or-ing into the request's result.
int finish_recipient(DeliveryQueueFile& file, const DeliveryRecipient& rcpt, int status, bool mark_only_if = true);

// Sets a damaged queue file aside for the queue manager (owner read-only,
// as the reference's mark_corrupt) with its "corrupted queue file"
// warning; a failed chmod is fatal.
void mark_corrupt(DeliveryQueueFile& file);

// The outcome text of the agents whose reason is the request's next-hop
// (discard, error/retry: "error:5.7.1 text" in a transport table), an
// optional leading "X.Y.Z" in it replacing default_status. An empty
// next-hop is fatal, as in the reference.
Dsn nexthop_dsn(const DeliveryRequest& request, std::string_view default_status);

// What run_delivery_agent() has read for the running agent.
struct DeliveryAgent {
    DeliveryAgentSettings settings;
    queue::QueueLayout layout;
    uid_t owner_uid = 0;  // mail_owner, when keep_root
    gid_t owner_gid = 0;
};
const DeliveryAgent& delivery_agent();

struct DeliveryAgentHooks {
    // Keep root as the real uid (the agent becomes each recipient's user)
    // and work with mail_owner's effective ids otherwise; an unknown
    // mail_owner is fatal. SIGPIPE is then ignored.
    bool keep_root = false;
    // master.cf arguments are the agent's (pipe's flags=... argv=...);
    // otherwise any is fatal.
    bool takes_args = false;
    // After the agent settings are read, before privileges are dropped.
    std::function<void(ServerContext&)> pre_init;
    // Added (tablewatch): the skeleton's pre_accept, before each new
    // request's connection (pipe and virtual restart on a changed table).
    std::function<void(ServerContext&)> pre_accept;
};

// Delivers one request's message; the result as for DeliverMessage.
using AgentDeliver = std::function<int(ServerContext&, DeliveryRequest&, DeliveryQueueFile&)>;

// Serves delivery requests under the single-server skeleton until it
// retires; returns main()'s exit status.
int run_delivery_agent(int argc, char** argv, DeliveryAgentHooks hooks, AgentDeliver deliver);

}  // namespace pf::ipc
