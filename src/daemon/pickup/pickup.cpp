// pickup(8): the local mail pickup service. A trigger server (one process,
// master.cf "fifo" or "unix" public/pickup with wakeup 60): any trigger
// or wakeup makes it scan maildrop/ and hand each ready file to cleanup
// (see pickup_copy.h). It keeps no privilege: it runs as mail_owner and
// reads maildrop files, which postdrop makes world-readable.
//
// Trust: maildrop files are users' input (pickup_copy.h); the trigger
// bytes are ignored.
#include "daemon/pickup/pickup_copy.h"
#include "config/config.h"
#include "ipc/mail_server.h"
#include "util/msg.h"

#include <pwd.h>
#include <unistd.h>

#include <string>

namespace {

pf::pickup::PickupSettings g_settings;
std::string g_cleanup_service = "cleanup";
std::string g_queue_directory;

void post_init(pf::ipc::ServerContext& ctx) {
    auto& cfg = ctx.config;
    g_settings.myhostname = cfg.get("myhostname");
    g_settings.mail_name = cfg.get("mail_name");
    g_settings.content_filter = cfg.get("content_filter");
    g_settings.line_limit = static_cast<std::size_t>(std::stoll(cfg.get("line_length_limit")));
    g_settings.cleanup_flags = pf::pickup::pickup_cleanup_flags(cfg.get("receive_override_options"),
                                                                 cfg.get("smtputf8_autodetect_classes"));
    std::string owner = cfg.get("mail_owner");
    if (struct passwd* pw = ::getpwnam(owner.c_str())) g_settings.mail_owner_uid = pw->pw_uid;
    g_cleanup_service = cfg.get("cleanup_service_name");
    // The skeleton runs us in the queue directory (or its chroot).
    g_queue_directory = ctx.chrooted ? std::string(".") : cfg.get("queue_directory");
}

void service(pf::ipc::ServerContext&, std::string_view) {
    pf::pickup::pickup_scan("maildrop", g_settings, [](unsigned flags) {
        return pf::ipc::CleanupClient::open(g_queue_directory, g_cleanup_service, flags);
    });
}

}  // namespace

int main(int argc, char** argv) {
    pf::ipc::ServerHooks hooks;
    hooks.post_init = post_init;
    return pf::ipc::run_trigger_server(argc, argv, std::move(hooks), service);
}
