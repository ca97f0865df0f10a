// smtpd's anvil limits; see smtpd_anvil.h.
#include "daemon/smtpd/smtpd_anvil.h"

#include "config/mail_params.h"
#include "ipc/anvil_client.h"
#include "mail/address_domain_list.h"
#include "util/msg.h"

#include <fmt/core.h>

#include <climits>
#include <memory>

namespace pf::smtpd {

namespace {

struct AnvilState {
    std::unique_ptr<ipc::AnvilClient> client;
    std::unique_ptr<mail::NamadrList> exceptions;   // smtpd_client_event_limit_exceptions
    std::string service;
    int conn_count_limit = 0;
    int conn_rate_limit = 0;
    int message_limit = 0;
    int recipient_limit = 0;
    int newtls_limit = 0;
    int auth_limit = 0;
};

AnvilState& st() {
    static AnvilState s;
    return s;
}

int limit_value(const config::Config& config, std::string_view name) {
    std::string value = config.get(name);
    auto v = config::parse_int_value(value, INT_MAX);
    if (!v) util::msg_fatal("bad numerical configuration: {} = {}", name, value);
    if (*v < 0) util::msg_fatal("invalid {} parameter value {} < 0", name, *v);
    return static_cast<int>(*v);
}

// Whether this client's events go to anvil at all (the reference's
// "anvil_clnt && !xclient_allowed && !namadr_list_match(hogger_list)").
// Evaluated with the client as it is now: after XCLIENT, the new one.
bool counted(Server& server, const Session& s) {
    AnvilState& a = st();
    if (!a.client) return false;
    if (xclient_allowed(server, s)) return false;
    // A lookup error in the exception list counts as a match (the
    // reference's MATCH_FLAG_RETURN).
    return a.exceptions->match(s.name, s.addr) == mail::NamadrList::Result::no;
}

std::string ident(const Session& s) { return ipc::anvil_ident(st().service, s.addr); }

}  // namespace

void anvil_init(const config::Config& config, std::string service) {
    AnvilState& a = st();
    a.service = std::move(service);
    a.conn_count_limit = limit_value(config, "smtpd_client_connection_count_limit");
    a.conn_rate_limit = limit_value(config, "smtpd_client_connection_rate_limit");
    a.message_limit = limit_value(config, "smtpd_client_message_rate_limit");
    a.recipient_limit = limit_value(config, "smtpd_client_recipient_rate_limit");
    a.newtls_limit = limit_value(config, "smtpd_client_new_tls_session_rate_limit");
    a.auth_limit = limit_value(config, "smtpd_client_auth_rate_limit");
    a.exceptions = std::make_unique<mail::NamadrList>(
        "smtpd_client_event_limit_exceptions", config.get("smtpd_client_event_limit_exceptions"),
        mail::parent_domain_style(config.get("parent_domain_matches_subdomains"),
                                  "smtpd_client_event_limit_exceptions"));
    a.client.reset();
    if (a.conn_count_limit || a.conn_rate_limit || a.message_limit || a.recipient_limit || a.newtls_limit ||
        a.auth_limit) {
        int timeout = config::parse_time_value(config.get("ipc_timeout"), 's').value_or(3600);
        a.client = std::make_unique<ipc::AnvilClient>(config.get("queue_directory"), timeout);
    }
}

void anvil_set_client(std::unique_ptr<ipc::AnvilClient> client) { st().client = std::move(client); }

bool anvil_connect(Server& server, Session& s) {
    AnvilState& a = st();
    if (!counted(server, s)) return true;
    auto r = a.client->connect(ident(s));
    if (!r) return true;
    if (a.conn_count_limit > 0 && r->count > a.conn_count_limit) {
        util::msg_warn("Connection concurrency limit exceeded: {} from {} for service {}", r->count, s.namaddr,
                       a.service);
        reply(server, s, fmt::format("421 4.7.0 {} Error: too many connections from {}", server.settings.myhostname,
                                     s.addr));
        return false;
    }
    if (a.conn_rate_limit > 0 && r->rate > a.conn_rate_limit) {
        util::msg_warn("Connection rate limit exceeded: {} from {} for service {}", r->rate, s.namaddr, a.service);
        reply(server, s, fmt::format("421 4.7.0 {} Error: too many connections from {}", server.settings.myhostname,
                                     s.addr));
        return false;
    }
    return true;
}

void anvil_disconnect(Server& server, Session& s) {
    if (!counted(server, s)) return;
    (void)st().client->disconnect(ident(s));
}

bool anvil_message_refused(Server& server, Session& s) {
    AnvilState& a = st();
    if (a.message_limit <= 0 || !counted(server, s)) return false;
    auto rate = a.client->message(ident(s));
    if (!rate || *rate <= a.message_limit) return false;
    fail(server, s, fmt::format("450 4.7.1 Error: too much mail from {}", s.addr));
    util::msg_warn("Message delivery request rate limit exceeded: {} from {} for service {}", *rate, s.namaddr,
                   a.service);
    return true;
}

bool anvil_recipient_refused(Server& server, Session& s) {
    AnvilState& a = st();
    if (a.recipient_limit <= 0 || !counted(server, s)) return false;
    auto rate = a.client->recipient(ident(s));
    if (!rate || *rate <= a.recipient_limit) return false;
    util::msg_warn("Recipient address rate limit exceeded: {} from {} for service {}", *rate, s.namaddr, a.service);
    fail(server, s, fmt::format("450 4.7.1 Error: too many recipients from {}", s.addr));
    return true;
}

bool anvil_auth_refused(Server& server, Session& s) {
    AnvilState& a = st();
    if (a.auth_limit <= 0 || !counted(server, s)) return false;
    auto rate = a.client->auth(ident(s));
    if (!rate || *rate <= a.auth_limit) return false;
    util::msg_warn("AUTH command rate limit exceeded: {} from {} for service {}", *rate, s.namaddr, a.service);
    fail(server, s, fmt::format("450 4.7.1 Error: too many AUTH commands from {}", s.addr));
    return true;
}

bool anvil_starttls_refused(Server& server, Session& s) {
    AnvilState& a = st();
    if (a.newtls_limit <= 0 || !counted(server, s)) return false;
    auto rate = a.client->newtls_status(ident(s));
    if (!rate || *rate <= a.newtls_limit) return false;
    util::msg_warn("Refusing STARTTLS request from {} for service {}", s.namaddr, a.service);
    fail(server, s, fmt::format("454 4.7.0 Error: too many new TLS sessions from {}", s.namaddr));
    return true;
}

bool anvil_wrapper_refused(Server& server, Session& s) {
    AnvilState& a = st();
    if (a.newtls_limit <= 0 || !counted(server, s)) return false;
    auto rate = a.client->newtls_status(ident(s));
    if (!rate || *rate <= a.newtls_limit) return false;
    util::msg_warn("Refusing TLS service request from {} for service {}", s.namaddr, a.service);
    return true;
}

bool anvil_newtls_over_limit(Server& server, Session& s, bool tls_active) {
    AnvilState& a = st();
    if (a.newtls_limit <= 0 || !counted(server, s)) return false;
    auto rate = a.client->newtls(ident(s));
    if (!rate || *rate <= a.newtls_limit) return false;
    util::msg_warn("New TLS session rate limit exceeded: {} from {} for service {}", *rate, s.namaddr, a.service);
    if (tls_active)
        reply(server, s, fmt::format("421 4.7.0 {} Error: too many new TLS sessions from {}",
                                     server.settings.myhostname, s.namaddr));
    return true;
}

}  // namespace pf::smtpd
