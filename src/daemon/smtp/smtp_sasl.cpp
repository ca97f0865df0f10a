// SASL authentication in the smtp/lmtp client: see smtp_sasl.h.
//
// Trust: server replies are remote; they reach only DSN texts and the
// SASL library's challenge decoder.
#include "daemon/smtp/smtp_sasl.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "dict/dict.h"
#include "mail/mail_addr_find.h"
#include "sasl/sasl_client.h"
#include "sasl/sasl_server.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::smtp_agent {

namespace {

struct Credentials {
    std::string user, password;
};

// found / not found; a table error defers.
enum class Lookup { found, not_found, error };

Lookup find_credentials(const SmtpSaslSettings& s, const SaslLoginContext& ctx, Credentials& out) {
    if (!s.password_maps || s.password_maps->empty()) return Lookup::not_found;
    std::optional<std::string> value;
    if (s.sender_dependent && !ctx.sender.empty() && ctx.find_ctx) {
        auto r = mail::mail_addr_find(*s.password_maps, ctx.sender, *ctx.find_ctx);
        if (r.status == mail::AddrFindResult::Status::error) return Lookup::error;
        if (r.status == mail::AddrFindResult::Status::found) value = r.value;
    }
    for (const std::string* key : {&ctx.peer->name, &ctx.destination}) {
        if (value || key->empty()) continue;
        auto r = s.password_maps->find(util::to_lower(*key));
        if (r.is_error()) return Lookup::error;
        if (r.is_found()) value = r.value();
    }
    if (!value) return Lookup::not_found;
    auto colon = value->find(':');
    out.user = value->substr(0, colon);
    out.password = colon == std::string::npos ? std::string() : value->substr(colon + 1);
    return Lookup::found;
}

void fail_event(SessionResult& out, std::string status, std::string reason) {
    SessionEvent ev;
    ev.dsn.status = std::move(status);
    ev.dsn.reason = std::move(reason);
    out.events.push_back(std::move(ev));
}

}  // namespace

std::shared_ptr<SmtpSaslSettings> SmtpSaslSettings::from_config(const config::Config& config, std::string_view prefix) {
    auto s = std::make_shared<SmtpSaslSettings>();
    std::string p(prefix);
    s->enable = config::get_bool_param(config, p + "sasl_auth_enable");
    s->type = config.get(p + "sasl_type");
    s->path = config.get(p + "sasl_path");
    s->security_options = config.get(p + "sasl_security_options");
    s->tls_security_options = config.get(p + "sasl_tls_security_options");
    s->mechanism_filter = config.get(p + "sasl_mechanism_filter");
    s->sender_dependent = config::get_bool_param(config, p + "sender_dependent_authentication");
    s->soft_bounce = config::get_bool_param(config, p + "sasl_auth_soft_bounce");
    if (!s->enable) return s;
    std::string maps = config.get(p + "sasl_password_maps");
    if (!util::trim(maps).empty()) {
        auto m = mail::Maps::open(p + "sasl_password_maps", maps, dict::kLock | dict::kFoldFixed);
        if (!m) util::msg_fatal("{}", m.error());
        s->password_maps = std::make_shared<mail::Maps>(std::move(*m));
    }
    (void)sasl::security_flags(s->security_options, p + "sasl_security_options");
    sasl::client_init(s->type);
    return s;
}

bool smtp_sasl_have_credentials(const SmtpSaslSettings& s, const SaslLoginContext& ctx) {
    if (!s.enable) return false;
    Credentials cred;
    return find_credentials(s, ctx, cred) == Lookup::found;
}

SaslLogin smtp_sasl_login(const SmtpSaslSettings& s, const SaslLoginContext& ctx, smtp::SmtpStream& stream,
                          const smtp::ServerFeatures& features, SessionResult& out) {
    if (!s.enable || !(features.flags & smtp::kFeatureAuth)) return SaslLogin::not_needed;
    const std::string namaddr = ctx.peer->namaddr();
    Credentials cred;
    switch (find_credentials(s, ctx, cred)) {
    case Lookup::not_found:
        return SaslLogin::not_needed;
    case Lookup::error:
        fail_event(out, "4.3.0", "SASL authentication failed; password table lookup error");
        return SaslLogin::failed;
    case Lookup::found:
        break;
    }
    std::string mechanisms = s.mechanism_filter.empty()
                                 ? features.auth_mechanisms
                                 : sasl::filter_mechanisms(features.auth_mechanisms, s.mechanism_filter);
    if (mechanisms.empty()) {
        fail_event(out, "4.7.0",
                   fmt::format("SASL authentication failed: server {} offered no compatible authentication mechanisms "
                               "for this type of connection security",
                               namaddr));
        return SaslLogin::failed;
    }
    sasl::ClientParams params;
    params.server_name = ctx.peer->name;
    params.username = cred.user;
    params.password = cred.password;
    params.security_options = ctx.tls ? s.tls_security_options : s.security_options;
    auto client = sasl::client_session(s.type, s.path, params);
    auto cannot = [&](const std::string& why) {
        fail_event(out, "4.7.0", fmt::format("SASL authentication failed; cannot authenticate to server {}: {}",
                                             namaddr, why));
        return SaslLogin::failed;
    };
    if (!client) return cannot(client.error());
    auto start = (*client)->first(mechanisms);
    if (!start) return cannot(start.error());
    std::string command = "AUTH " + start->mechanism;
    if (start->initial) command += " " + (start->initial->empty() ? std::string("=") : *start->initial);
    stream.set_timeout(ctx.timeout);
    auto lost = [&](smtp::StreamError e) {
        if (e == smtp::StreamError::kTimeout)
            fail_event(out, "4.4.2", fmt::format("conversation with {} timed out while performing the EHLO handshake",
                                                 namaddr));
        else
            fail_event(out, "4.4.2", fmt::format("lost connection with {} while performing the EHLO handshake",
                                                 namaddr));
        return SaslLogin::failed;
    };
    for (;;) {
        stream.write(command);
        stream.write("\r\n");
        if (auto w = stream.flush(); !w) return lost(w.error());
        auto r = smtp::read_client_reply(stream, ctx.line_limit);
        if (!r) return lost(r.error());
        if (r->code == 334) {
            // The challenge: the first line's text after "334 ".
            std::string_view first = std::string_view(r->text).substr(0, r->text.find('\n'));
            first = first.size() > 4 ? first.substr(4) : std::string_view();
            auto answer = (*client)->step(util::trim(first));
            if (!answer) {
                // The exchange cannot go on: end it as the RFC says.
                command = "*";
                stream.write(command);
                stream.write("\r\n");
                (void)stream.flush();
                (void)smtp::read_client_reply(stream, ctx.line_limit);
                return cannot(answer.error());
            }
            command = *answer;
            continue;
        }
        if (r->code / 100 == 2) return SaslLogin::ok;
        SessionEvent ev;
        ev.dsn.status = r->dsn;
        if (s.soft_bounce && !ev.dsn.status.empty() && ev.dsn.status[0] == '5') ev.dsn.status[0] = '4';
        ev.dsn.reason = fmt::format("SASL authentication failed; server {} said: {}", namaddr, r->one_line());
        ev.dsn.dtype = "smtp";
        ev.dsn.dtext = r->one_line();
        ev.dsn.mtype = "dns";
        ev.dsn.mname = ctx.peer->name;
        out.events.push_back(std::move(ev));
        return SaslLogin::failed;
    }
}

}  // namespace pf::smtp_agent
