// qmqpd(8): the QMQP server. A single-server daemon (one client per
// process at a time, as master.cf's "qmqpd" service runs it, usually on
// port 628) that takes mail from the mailing-list managers and other
// hosts named in qmqpd_authorized_clients (nobody by default) and hands
// it to cleanup(8), as the reference's qmqpd does (qmqpd_session.h).
//
// Privileges: none beyond mail_owner (the skeleton drops to it, and may
// chroot); the client list is opened before that.
// Trust: master.cf gives no arguments (one is a fatal error); clients are
// hostile until the list says otherwise, and even then their bytes are
// parsed as hostile.
#include "config/config.h"
#include "config/mail_params.h"
#include "daemon/qmqpd/qmqpd_peer.h"
#include "daemon/qmqpd/qmqpd_session.h"
#include "dict/dict_watch.h"
#include "ipc/cleanup_flags.h"
#include "ipc/mail_server.h"
#include "ipc/services.h"
#include "mail/address_domain_list.h"
#include "mail/namadr_list.h"
#include "util/msg.h"

#include <memory>
#include <string>

namespace {

using namespace pf;

qmqpd::Settings g_settings;
std::string g_queue_directory;
std::string g_cleanup_service = "cleanup";

int get_time(const config::Config& config, std::string_view name, int min) {
    std::string value = config.get(name);
    auto v = config::parse_time_value(value, 's');
    if (!v) util::msg_fatal("invalid {} parameter value: \"{}\"", name, value);
    if (*v < min) util::msg_fatal("invalid {} parameter value {} < {}", name, *v, min);
    return *v;
}

long long get_int(const config::Config& config, std::string_view name, long long min) {
    std::string value = config.get(name);
    auto v = config::parse_int_value(value, 0x7fffffff);
    if (!v) util::msg_fatal("bad numerical configuration: {} = {}", name, value);
    if (*v < min) util::msg_fatal("invalid {} parameter value {} < {}", name, *v, min);
    return *v;
}

bool get_bool(const config::Config& config, std::string_view name) {
    std::string value = config.get(name);
    auto v = config::parse_bool_value(value);
    if (!v) util::msg_fatal("bad boolean configuration: {} = {}", name, value);
    return *v;
}

void pre_init(ipc::ServerContext& ctx) {
    auto& cfg = ctx.config;
    g_settings.clients = std::make_shared<mail::NamadrList>(
        "qmqpd_authorized_clients", cfg.get("qmqpd_authorized_clients"),
        mail::parent_domain_style(cfg.get("parent_domain_matches_subdomains"), "qmqpd_authorized_clients"));
}

void post_init(ipc::ServerContext& ctx) {
    auto& cfg = ctx.config;
    if (!ctx.args.empty()) util::msg_fatal("unexpected command-line argument: {}", ctx.args.front());
    g_settings.timeout = get_time(cfg, "qmqpd_timeout", 1);
    g_settings.error_delay = get_time(cfg, "qmqpd_error_delay", 0);
    g_settings.port_logging = get_bool(cfg, "qmqpd_client_port_logging");
    g_settings.soft_bounce = get_bool(cfg, "soft_bounce");
    g_settings.message_limit = get_int(cfg, "message_size_limit", 0);
    g_settings.line_limit = get_int(cfg, "line_length_limit", 1);
    g_settings.content_filter = cfg.get("content_filter");
    g_settings.verp_filter = cfg.get("verp_delimiter_filter");
    g_settings.myhostname = cfg.get("myhostname");
    g_settings.mail_name = cfg.get("mail_name");
    g_settings.cleanup_flags = ipc::input_cleanup_flags(cfg.get("receive_override_options"));
    if (ipc::mail_class_listed(cfg.get("smtputf8_autodetect_classes"), "qmqpd"))
        g_settings.cleanup_flags |= ipc::kCleanupAutoUtf8;
    g_cleanup_service = cfg.get("cleanup_service_name");
    g_queue_directory = ctx.chrooted ? std::string(".") : cfg.get("queue_directory");
}

bool service(ipc::ServerContext&, int fd) {
    qmqpd::Peer peer = qmqpd::lookup_peer(fd, g_settings.port_logging);
    util::msg_info("connect from {}", peer.namaddr);
    qmqpd::run_session(fd, peer, g_settings, [](unsigned flags) {
        return ipc::CleanupClient::open(g_queue_directory, g_cleanup_service, flags);
    });
    util::msg_info("disconnect from {}", peer.namaddr);
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_accept = [](ipc::ServerContext&) { dict::exit_if_table_changed(); };  // restart on a rebuilt table
    hooks.pre_init = pre_init;
    hooks.post_init = post_init;
    return ipc::run_single_server(argc, argv, std::move(hooks), service);
}
