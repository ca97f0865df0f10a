// smtpd(8): the SMTP server. One client at a time per process
// (single-server skeleton, as the reference's), many processes under
// master. It reads main.cf and the master.cf -o overrides (the stock
// "submission" and "smtps" services are plain smtpd with overrides),
// builds the restriction engine, then serves each connection with
// smtpd_session().
//
// Privileges: none beyond mail_owner (the skeleton drops to it); the
// client socket is the only outside input.
#include "daemon/smtpd/smtpd_session.h"
#include "daemon/smtpd/smtpd_anvil.h"

#include "ipc/cleanup_flags.h"
#include "ipc/flush_client.h"
#include "ipc/mail_server.h"
#include "ipc/services.h"
#include "util/msg.h"
#include "util/strings.h"

#include <memory>

namespace {

using namespace pf;

smtpd::Server& server() {
    static smtpd::Server s;
    return s;
}

// receive_override_options applied to the flags smtpd gives cleanup.
unsigned cleanup_flags(const config::Config& config) {
    unsigned flags = ipc::input_cleanup_flags(config.get("receive_override_options")) | ipc::kCleanupSmtpReply;
    if (ipc::mail_class_listed(config.get("smtputf8_autodetect_classes"), "smtpd")) flags |= ipc::kCleanupAutoUtf8;
    return flags;
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        smtpd::Server& s = server();
        s.config = &ctx.config;
        s.settings = smtpd::Settings::from_config(ctx.config);
        s.restrictions = std::make_unique<smtpd::Restrictions>(ctx.config);
        s.cleanup_flags = cleanup_flags(ctx.config);
        ipc::flush_init(ctx.config);  // fast_flush_domains tables, before the chroot
    };
    // Inside a chroot jail (the stock master.cf chroots smtpd) the skeleton
    // has made queue_directory "/": cleanup and trivial-rewrite are found
    // from there.
    hooks.post_init = [](ipc::ServerContext& ctx) {
        smtpd::Server& s = server();
        s.settings.queue_directory = ctx.config.get("queue_directory");
        s.rewrite = std::make_unique<ipc::RewriteClient>(s.settings.queue_directory);
        smtpd::anvil_init(ctx.config, ctx.service_name);   // smtpd_anvil.h
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), [](ipc::ServerContext& ctx, int fd) {
        if (!ctx.args.empty()) util::msg_fatal("unexpected command-line argument: {}", ctx.args.front());
        smtpd::smtpd_session(server(), fd);
        return false;
    });
}
