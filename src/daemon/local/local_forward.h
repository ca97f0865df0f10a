// Forwarding by re-submission, as the reference's local(8) forwards: the
// recipients an alias, :include: or .forward expansion sends elsewhere are
// collected per (Delivered-To address, envelope sender) pair; each pair
// becomes one new message through the cleanup service with a "Received:
// by <myhostname> (<mail_name>)" header, a "Delivered-To:" header
// (prepend_delivered_header "forward") and the original content. When the
// top-level recipient is done, each new message is completed and the
// recipient is logged "status=sent (forwarded as <new queue ID>)".
//
// Trust: the recipient addresses come from expansions (user input) and are
// written as records, never interpreted; cleanup is ours.
#pragma once

#include "local.h"

#include "ipc/cleanup_client.h"

#include <ctime>
#include <map>
#include <string>
#include <utility>

namespace pf::local {

class Forwarder {
public:
    // Forgets everything (start of a top-level recipient).
    void init();
    // Adds the recipient of attr to the message for (delivered, sender);
    // opens that message on first use. -1 when cleanup cannot be reached.
    int append(Context& ctx, const MsgAttr& attr);
    // Completes every open message (or drops them when cancel != 0) and
    // records the top-level recipient as forwarded. Returns the status.
    int finish(Context& ctx, const MsgAttr& top, int cancel);

private:
    struct Pending {
        ipc::CleanupClient client;
        std::string queue_id;
        std::time_t posting_time = 0;
        bool failed = false;
    };
    std::map<std::pair<std::string, std::string>, Pending> open_;
    std::vector<std::pair<std::string, std::string>> order_;
};

}  // namespace pf::local
