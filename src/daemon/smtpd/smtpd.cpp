// smtpd(8): the SMTP server. One client at a time per process
// (single-server skeleton, as the reference's), many processes under
// master. It reads main.cf and the master.cf -o overrides (the stock
// "submission" and "smtps" services are plain smtpd with overrides),
// builds the restriction engine, then serves each connection with
// smtpd_session().
//
// Privileges: none beyond mail_owner (the skeleton drops to it); the
// client socket is the only outside input.
//
// Stand-alone (sendmail -bs runs "smtpd -S" as the submitting user, without
// master): the client is on stdin/stdout; when that user is not mail_owner
// the session runs as the reference's SMTPD_STAND_ALONE mode does: no
// restrictions, anvil, XCLIENT, XFORWARD, TLS, SASL, before-queue filter,
// content_filter record or bare <LF> policy, ETRN refused, logging to the
// mail log only, and each message piped through postdrop (smtpd_sink.h).
#include "daemon/smtpd/smtpd_session.h"
#include "daemon/smtpd/smtpd_anvil.h"
#include "daemon/smtpd/smtpd_upstream.h"

#include "dict/dict_watch.h"
#include "ipc/cleanup_flags.h"
#include "ipc/flush_client.h"
#include "ipc/mail_server.h"
#include "ipc/services.h"
#include "util/msg.h"
#include "util/privileges.h"
#include "util/strings.h"

#include <unistd.h>

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

// The reference's test: input on stdin and a real uid other than
// mail_owner's. As mail_owner, smtpd -S talks to cleanup as usual.
bool stand_alone(const ipc::ServerContext& ctx) {
    if (!ctx.on_stdin) return false;
    auto owner = util::lookup_account(ctx.config.get("mail_owner"));
    return !owner || ::getuid() != owner->uid;
}

// What the stand-alone server leaves out, as settings: the rest of the
// code then needs no test of its own.
void stand_alone_overrides(config::Config& config) {
    static constexpr const char* kOff[][2] = {
        {"smtpd_proxy_filter", ""},           {"smtpd_authorized_xclient_hosts", ""},
        {"smtpd_authorized_xforward_hosts", ""}, {"smtpd_tls_security_level", ""},
        {"smtpd_use_tls", "no"},              {"smtpd_enforce_tls", "no"},
        {"smtpd_tls_auth_only", "no"},        {"smtpd_tls_wrappermode", "no"},
        {"smtpd_forbid_bare_newline", "no"},  {"content_filter", ""},
        {"smtpd_sasl_auth_enable", "no"},
    };
    for (const auto& [name, value] : kOff) config.set_override(name, value);
}

// The reference sets up its restriction engine only for root (and
// mail_owner): an ordinary user's stand-alone server opens none of its
// tables (which it may not be allowed to read, e.g. proxy: tables behind
// the private/ directory). The engine here is still built, from empty
// lists; none of it runs in stand-alone mode anyway.
void unprivileged_overrides(config::Config& config) {
    static constexpr const char* kEmpty[] = {
        "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
        "smtpd_recipient_restrictions", "smtpd_etrn_restrictions", "smtpd_data_restrictions",
        "smtpd_end_of_data_restrictions", "smtpd_restriction_classes", "local_recipient_maps",
        "virtual_mailbox_maps", "relay_recipient_maps", "recipient_canonical_maps", "sender_canonical_maps",
        "canonical_maps", "virtual_alias_maps", "relay_clientcerts", "smtpd_sender_login_maps",
        "rbl_reply_maps", "local_header_rewrite_clients", "mynetworks", "relay_domains",
    };
    for (const char* name : kEmpty) config.set_override(name, "");
    config.set_override("smtpd_relay_restrictions", "reject");   // never evaluated; keeps the engine's sanity check quiet
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_accept = [](ipc::ServerContext&) { dict::exit_if_table_changed(); };  // restart on a rebuilt table
    hooks.quiet_on_stdin = true;   // sendmail -bs: the reference logs to the mail log only
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        smtpd::Server& s = server();
        s.config = &ctx.config;
        s.standalone = stand_alone(ctx);
        s.passed = ctx.service_type == "pass";
        if (s.standalone) stand_alone_overrides(ctx.config);
        if (s.standalone && ::getuid() != 0) unprivileged_overrides(ctx.config);
        s.settings = smtpd::Settings::from_config(ctx.config);
        // A configuration the restriction engine refuses is fatal (logged,
        // as the reference's "fatal: in parameter ..."), not an abort.
        try {
            s.restrictions = std::make_unique<smtpd::Restrictions>(ctx.config);
        } catch (const std::exception& e) {
            util::msg_fatal("{}", e.what());
        }
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
        if (!s.standalone) smtpd::anvil_init(ctx.config, ctx.service_name);   // smtpd_anvil.h
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), [](ipc::ServerContext& ctx, int fd) {
        smtpd::set_pass_attributes(ctx.passed_attrs);   // smtpd_upstream.h (empty unless postscreen passed the client)
        smtpd::smtpd_session(server(), fd);
        return false;
    });
}
