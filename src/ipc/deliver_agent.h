// The request cycle every delivery agent shares (discard, error/retry,
// pipe, local, virtual, smtp, ...): read one delivery request from qmgr,
// open the queue file it names, let the agent deliver, answer qmgr with
// the overall status. As the reference's agents: a request that cannot be
// read is a warning and the connection is dropped; a queue file that has
// gone away (or has a bad name) is a warning and no reply; any other open
// failure is fatal (the agent is restarted by master).
//
// Trust: requests come from qmgr (same mail system); the codec checks
// their shape.
#pragma once

#include "ipc/deliver_completion.h"
#include "ipc/deliver_queue_file.h"
#include "ipc/delivery_request.h"
#include "queue/queue_file.h"

#include <functional>

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

}  // namespace pf::ipc
