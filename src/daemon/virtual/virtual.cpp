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
#include "ipc/deliver_completion.h"
#include "ipc/deliver_queue_file.h"
#include "ipc/delivery_request.h"
#include "ipc/mail_server.h"
#include "mailbox/mailbox_guards.h"
#include "util/msg.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace {

using namespace pf;

struct VirtualState {
    std::optional<virtual_agent::VirtualSettings> settings;
    ipc::DeliveryAgentSettings agent;
    queue::QueueLayout layout;
    uid_t owner_uid = 0;
    gid_t owner_gid = 0;
};

VirtualState& state() {
    static VirtualState s;
    return s;
}

int deliver_message(ipc::ServerContext& ctx, ipc::DeliveryRequest& request, ipc::DeliveryQueueFile& file) {
    VirtualState& st = state();
    if (request.recipients.empty()) util::msg_fatal("recipient count: 0");
    ipc::DeliveryRecorder recorder(st.agent, request);
    virtual_agent::VirtualContext vctx{*st.settings, recorder, ctx.service_name, st.owner_uid, st.owner_gid, {}};
    int result = 0;
    for (const auto& rcpt : request.recipients) {
        bool corrupt = false;
        int status = virtual_agent::deliver_recipient(vctx, request, file.stream(), rcpt, &corrupt);
        if (corrupt) {
            util::msg_warn("corrupted queue file: {}", file.path());
            if (::fchmod(file.fd(), S_IRUSR) < 0)
                util::msg_fatal("mark_corrupt: fchmod {}: {}", file.path(), std::strerror(errno));
        }
        if (status == 0 && (request.flags & ipc::kDeliverySuccess)) {
            if (auto done = file.mark_done(rcpt.offset); !done) util::msg_fatal("{}", done.error());
        }
        result |= status;
    }
    return result;
}

bool virtual_service(ipc::ServerContext& ctx, int fd) {
    VirtualState& st = state();
    if (!ctx.args.empty()) util::msg_fatal("unexpected command-line argument: {}", ctx.args.front());
    std::string buffer;
    auto request = ipc::receive_delivery_request(fd, buffer, st.agent.ipc_timeout);
    if (!request) {
        util::msg_warn("deliver_request_get: {}", request.error());
        return false;
    }
    if (!request->times.agent_handoff.is_set()) request->times.agent_handoff = ipc::TimeStamp::now();
    auto file = ipc::DeliveryQueueFile::open(st.layout, request->queue_name, request->queue_id);
    if (!file) {
        if (file.error().kind == ipc::DeliveryQueueFile::OpenError::failed) util::msg_fatal("{}", file.error().text);
        util::msg_warn("{}", file.error().text);
        return false;
    }
    int status = deliver_message(ctx, *request, *file);
    ipc::DeliveryReply reply;
    reply.status = status != 0 ? 1 : 0;
    if (auto sent = ipc::send_delivery_reply(fd, reply, st.agent.ipc_timeout); !sent) util::msg_warn("{}", sent.error());
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.keep_root = true;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        VirtualState& st = state();
        st.agent = ipc::DeliveryAgentSettings::from_config(ctx.config);
        st.layout = queue::QueueLayout::from_config(ctx.config);
        std::string owner = ctx.config.get("mail_owner");
        struct passwd* pw = ::getpwnam(owner.c_str());
        if (!pw) util::msg_fatal("unknown mail_owner: {}", owner);
        st.owner_uid = pw->pw_uid;
        st.owner_gid = pw->pw_gid;
        ::signal(SIGPIPE, SIG_IGN);
        ::signal(SIGXFSZ, SIG_IGN);
        try {
            st.settings = virtual_agent::VirtualSettings::from_config(ctx.config);
        } catch (const std::exception& e) {
            util::msg_fatal("{}", e.what());
        }
    };
    hooks.post_init = [](ipc::ServerContext&) {
        // Work as mail_owner; root stays the real uid for the recipients' sake.
        if (::getuid() == 0) mailbox::set_eugid(state().owner_uid, state().owner_gid);
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), virtual_service);
}
