// smtp(8) and lmtp(8): the mail system's SMTP and LMTP delivery client.
// One program under two names, as the reference installs it: run as
// "lmtp" (argv[0]) it speaks LMTP, reads the lmtp_* parameters and accepts
// the inet:/unix: next-hop forms. Each delivery request from qmgr is one
// conversation with the next-hop's servers (smtp_deliver.h).
//
// Privileges: none beyond mail_owner (the skeleton drops to it).
// Trust: requests come from qmgr; master.cf may give flags=DORX, read at
// start-up (smtp_cli_attr.h): any other argument stops the daemon there.
#include "config/mail_params.h"
#include "daemon/smtp/smtp_cache.h"
#include "daemon/smtp/smtp_cli_attr.h"
#include "daemon/smtp/smtp_deliver.h"
#include "daemon/smtp/smtp_settings.h"
#include "dict/dict_watch.h"
#include "ipc/deliver_agent.h"
#include "ipc/mail_server.h"
#include "util/msg.h"

#include <csignal>

namespace {

using namespace pf;

struct AgentState {
    ipc::DeliveryAgentSettings agent;
    smtp_agent::SmtpSettings smtp;
    queue::QueueLayout layout;
};

AgentState& state() {
    static AgentState s;
    return s;
}

bool smtp_service(ipc::ServerContext&, int fd) {
    AgentState& st = state();
    return ipc::serve_delivery_request(fd, st.agent, st.layout,
                                       [&](ipc::DeliveryRequest& request, ipc::DeliveryQueueFile& file) {
                                           return smtp_agent::deliver_request(st.smtp, st.agent, request, file);
                                       });
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    ipc::ServerHooks hooks;
    hooks.pre_accept = [](ipc::ServerContext&) { dict::exit_if_table_changed(); };  // restart on a rebuilt table
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        bool lmtp = ctx.program_name == "lmtp";
        state().agent = ipc::DeliveryAgentSettings::from_config(ctx.config);
        state().smtp = smtp_agent::SmtpSettings::from_config(ctx.config, lmtp);
        state().layout = queue::QueueLayout::from_config(ctx.config);
    };
    hooks.takes_args = true;  // flags=DORX
    hooks.post_init = [](ipc::ServerContext& ctx) {
        // The arguments do not change during the process lifetime: read
        // once, before the first request, as the reference does.
        bool lmtp = ctx.program_name == "lmtp";
        bool assume_final = config::parse_bool_value(ctx.config.get("lmtp_assume_final")).value_or(false);
        auto attr = smtp_agent::parse_cli_attr(ctx.args, lmtp, assume_final);
        if (!attr) util::msg_fatal("{}", attr.error());
        if (!attr->warning.empty()) util::msg_warn("{}", attr->warning);
        state().smtp.cli_flags = attr->flags;
        state().smtp.service = ctx.service_name;
        state().agent.queue_directory = ctx.config.get("queue_directory");
        // The connection cache (scache) is found under the queue directory;
        // its labels start with our master.cf service name.
        state().smtp.cache->transport = ctx.service_name;
        state().smtp.cache->open_client(state().agent.queue_directory);
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), smtp_service);
}
