// virtual(8): delivery to mailboxes of virtual domains, run by master as a
// single-server (one delivery request per connection, from qmgr over
// private/<service>). Settings in virtual_settings.h, the per-recipient
// logic in virtual_deliver.h, the mailbox writes in src/mailbox.
//
// Privileges: keeps root as the real uid (to write as each recipient's
// uid/gid from virtual_uid_maps / virtual_gid_maps) and otherwise works
// with the effective ids of mail_owner, as the reference does.
//
// Trust: delivery requests come from qmgr; the queue file may be damaged;
// mailbox paths come from the administrator's tables, what is on disk
// there is hostile.
#include "virtual_deliver.h"
#include "virtual_settings.h"

#include "config/config.h"
#include "dict/dict_watch.h"
#include "ipc/deliver_agent.h"
#include "ipc/deliver_completion.h"
#include "ipc/deliver_queue_file.h"
#include "ipc/delivery_request.h"
#include "mailbox/mailbox_guards.h"
#include "util/msg.h"

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace {

using namespace pf;

// virtual_* settings, read at start-up.
std::optional<virtual_agent::VirtualSettings>& settings() {
    static std::optional<virtual_agent::VirtualSettings> s;
    return s;
}

int deliver_message(ipc::ServerContext& ctx, ipc::DeliveryRequest& request, ipc::DeliveryQueueFile& file) {
    const ipc::DeliveryAgent& agent = ipc::delivery_agent();
    if (request.recipients.empty()) util::msg_fatal("recipient count: 0");
    ipc::DeliveryRecorder recorder(agent.settings, request);
    virtual_agent::VirtualContext vctx{*settings(), recorder, ctx.service_name, agent.owner_uid, agent.owner_gid, {}};
    int result = 0;
    for (const auto& rcpt : request.recipients) {
        bool corrupt = false;
        int status = virtual_agent::deliver_recipient(vctx, request, file.stream(), rcpt, &corrupt);
        if (corrupt) ipc::mark_corrupt(file);
        result |= ipc::finish_recipient(file, rcpt, status, (request.flags & ipc::kDeliverySuccess) != 0);
    }
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    // Root stays the real uid for the recipients' sake.
    ipc::DeliveryAgentHooks hooks;
    hooks.pre_accept = [](ipc::ServerContext&) { dict::exit_if_table_changed(); };  // restart on a rebuilt table
    hooks.keep_root = true;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        ::signal(SIGXFSZ, SIG_IGN);
        try {
            settings() = virtual_agent::VirtualSettings::from_config(ctx.config);
        } catch (const std::exception& e) {
            util::msg_fatal("{}", e.what());
        }
        // virtual_mailbox_limit bounds every file this process writes, set
        // once as the reference does (not around each delivery).
        if (!mailbox::set_file_size_limit(settings()->mailbox_limit))
            util::msg_fatal("setrlimit: {}", std::strerror(errno));
    };
    return ipc::run_delivery_agent(argc, argv, std::move(hooks), deliver_message);
}
