// SMTP AUTH in smtpd (see smtpd_sasl.h): settings, EHLO lines, the AUTH
// command, MAIL FROM AUTH=, and the traces of an authenticated session.
//
// The order of AUTH's checks and every reply and warning text are the
// reference's: "503 5.5.1 Error: send HELO/EHLO first" (with
// smtpd_helo_required), "... authentication not enabled" (also before
// TLS with smtpd_tls_auth_only), "... MAIL transaction in progress",
// "... already authenticated", "501 5.5.4 Syntax: AUTH mechanism", then
// the exchange: "334 <challenge>" lines, "*" answered with "501 5.7.0
// Authentication aborted", a response over smtpd_sasl_response_limit with
// "500 5.5.6 SASL response limit exceeded", the end with "235 2.7.0
// Authentication successful", "535 5.7.8 Error: authentication failed:
// <reason>" or "454 4.7.0 Temporary authentication failure: <reason>".
// A session's SASL state is made afresh for every AUTH after the first
// (a failed exchange is never continued), and again when TLS started.
//
// Trust: client bytes are bounded and only passed to the back end; the
// login name the back end reports is made printable before use.
#include "daemon/smtpd/smtpd_sasl.h"
#include "daemon/smtpd/smtpd_anvil.h"

#include "config/mail_params.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <fmt/core.h>

namespace pf::smtpd {

namespace {

bool get_bool(const config::Config& config, std::string_view name) {
    std::string value = config.get(name);
    auto v = config::parse_bool_value(value);
    if (!v) util::msg_fatal("bad boolean configuration: {} = {}", name, value);
    return *v;
}

// The per-connection SASL state, made when first needed and again after
// a used exchange or a change to TLS.
sasl::ServerSession* session_for(Server& server, Session& s, bool fresh) {
    SaslContext& ctx = *server.settings.sasl;
    if (s.sasl_session && !fresh && s.sasl_session_tls == s.tls_active) return s.sasl_session.get();
    s.sasl_session.reset();
    sasl::SessionParams p;
    p.service = ctx.service;
    p.server_fqdn = server.settings.myhostname;
    p.user_realm = ctx.realm;
    p.server_addr = s.server_addr;
    p.server_port = s.server_port;
    p.client_addr = s.addr;
    p.client_port = s.port;
    p.security_options = s.tls_active ? ctx.tls_security_options : ctx.security_options;
    p.tls = s.tls_active;
    auto made = ctx.backend->create(p);
    if (!made) util::msg_fatal("{}", made.error());
    s.sasl_session = std::shared_ptr<sasl::ServerSession>(std::move(*made));
    s.sasl_session_tls = s.tls_active;
    return s.sasl_session.get();
}

// Whether AUTH may be used in this session at all.
bool auth_available(const Server& server, const Session& s) {
    const auto& ctx = server.settings.sasl;
    // TLS enforcement (encrypt level, smtpd_enforce_tls, wrapper mode)
    // implies smtpd_tls_auth_only, as in the reference: no AUTH before TLS.
    const bool auth_only = ctx && (ctx->tls_auth_only || server.settings.tls.auth_only);
    return ctx && ctx->enable && ctx->backend && !(auth_only && !s.tls_active);
}

}  // namespace

std::shared_ptr<SaslContext> sasl_settings(const config::Config& config) {
    auto ctx = std::make_shared<SaslContext>();
    ctx->enable = get_bool(config, "smtpd_sasl_auth_enable");
    ctx->broken_clients = get_bool(config, "broken_sasl_auth_clients");
    ctx->authenticated_header = get_bool(config, "smtpd_sasl_authenticated_header");
    ctx->tls_auth_only = get_bool(config, "smtpd_tls_auth_only");
    ctx->service = config.get("smtpd_sasl_service");
    ctx->realm = config.get("smtpd_sasl_local_domain");
    ctx->security_options = config.get("smtpd_sasl_security_options");
    ctx->tls_security_options = config.get("smtpd_sasl_tls_security_options");
    ctx->mechanism_filter = config.get("smtpd_sasl_mechanism_filter");
    std::string limit = config.get("smtpd_sasl_response_limit");
    auto v = config::parse_int_value(limit, INT32_MAX);
    if (!v) util::msg_fatal("bad numerical configuration: smtpd_sasl_response_limit = {}", limit);
    if (*v < 1) util::msg_fatal("invalid smtpd_sasl_response_limit parameter value {} < 1", *v);
    ctx->response_limit = static_cast<std::size_t>(*v);
    ctx->exceptions = std::make_unique<mail::NamadrList>("smtpd_sasl_exceptions_networks",
                                                   config.get("smtpd_sasl_exceptions_networks"), true);
    if (ctx->enable) {
        // Option words are checked now, as the reference does at start-up.
        (void)sasl::security_flags(ctx->security_options, "smtpd_sasl_security_options");
        (void)sasl::security_flags(ctx->tls_security_options, "smtpd_sasl_tls_security_options");
        ctx->backend = sasl::server_backend(config.get("smtpd_sasl_type"), config.get("smtpd_sasl_path"),
                                            config.get("config_directory"));
    }
    return ctx;
}

bool sasl_active(const Server& server) {
    return server.settings.sasl && server.settings.sasl->enable && server.settings.sasl->backend;
}

void sasl_connect(Server& server, Session& s) {
    if (!auth_available(server, s)) return;
    std::string list = sasl::filter_mechanisms(session_for(server, s, false)->mechanism_list(),
                                               server.settings.sasl->mechanism_filter);
    if (list.empty()) util::msg_fatal("no SASL authentication mechanisms");
}

std::vector<std::string> sasl_ehlo_lines(Server& server, Session& s) {
    std::vector<std::string> out;
    if (!auth_available(server, s)) return out;
    SaslContext& ctx = *server.settings.sasl;
    if (ctx.exceptions->match(s.name, s.addr) == mail::NamadrList::Result::yes) return out;
    std::string list = sasl::filter_mechanisms(session_for(server, s, false)->mechanism_list(), ctx.mechanism_filter);
    if (list.empty()) return out;
    out.push_back("AUTH " + list);
    if (ctx.broken_clients) out.push_back("AUTH=" + list);
    return out;
}

Outcome sasl_auth_command(Server& server, Session& s, const std::vector<Token>& args) {
    if (server.settings.helo_required && s.helo_name.empty())
        return fail(server, s, "503 5.5.1 Error: send HELO/EHLO first");
    // AUTH removed from this session's EHLO (smtpd_discard_ehlo_keywords or
    // the client's entry in smtpd_discard_ehlo_keyword_address_maps) is not
    // served either.
    bool discarded = (s.ehlo_discard_mask & kAuth) != 0;
    if (!auth_available(server, s) || discarded)
        return fail(server, s, "503 5.5.1 Error: authentication not enabled");
    if (s.in_mail) return fail(server, s, "503 5.5.1 Error: MAIL transaction in progress");
    if (!s.sasl_username.empty()) return fail(server, s, "503 5.5.1 Error: already authenticated");
    if (args.empty() || args.size() > 2) return fail(server, s, "501 5.5.4 Syntax: AUTH mechanism");
    if (anvil_auth_refused(server, s)) return Outcome::error;   // smtpd_client_auth_rate_limit
    SaslContext& ctx = *server.settings.sasl;
    sasl::ServerSession* sess = session_for(server, s, s.sasl_used);
    s.sasl_used = true;
    const std::string& mechanism = args[0].text;
    std::optional<std::string_view> initial;
    if (args.size() == 2) initial = args[1].text;
    std::string text;
    sasl::AuthStatus status = sess->first(mechanism, initial, text);
    while (status == sasl::AuthStatus::more) {
        reply(server, s, "334 " + text);
        auto line = s.stream.read_line(ctx.response_limit, true);
        if (!line) {
            if (line.error() == smtp::StreamError::kTimeout) {
                s.end_reason = "timeout";
                s.want_quit = true;
                reply(server, s, fmt::format("421 4.4.2 {} Error: timeout exceeded", server.settings.myhostname));
            } else {
                s.end_reason = "lost connection";
                s.want_quit = true;
            }
            return Outcome::error;
        }
        if (line->end == smtp::LineEnd::kNone && line->text.size() < ctx.response_limit) {
            s.end_reason = "lost connection";
            s.want_quit = true;
            return Outcome::error;
        }
        if (line->text.size() >= ctx.response_limit) {
            util::msg_warn("{}: request longer than {}: {:.30}...", s.namaddr, ctx.response_limit, line->text);
            return fail(server, s, "500 5.5.6 SASL response limit exceeded");
        }
        if (line->text == "*") {
            util::msg_warn("{}: SASL {} authentication aborted", s.namaddr, mechanism);
            return fail(server, s, "501 5.7.0 Authentication aborted");
        }
        status = sess->next(line->text, text);
    }
    if (status != sasl::AuthStatus::done) {
        if (text.empty()) text = "(reason unavailable)";
        auto user = sess->username();
        util::msg_warn("{}: SASL {:.100} authentication failed: {}, sasl_username={:.100}", s.namaddr, mechanism,
                       text, user ? *user : std::string("(unavailable)"));
        if (status == sasl::AuthStatus::temp)
            return fail(server, s, fmt::format("454 4.7.0 Temporary authentication failure: {}", text));
        return fail(server, s, fmt::format("535 5.7.8 Error: authentication failed: {}", text));
    }
    auto user = sess->username();
    s.sasl_method = util::printable(mechanism, false);
    s.sasl_username = user ? *user : std::string();
    reply(server, s, "235 2.7.0 Authentication successful");
    return Outcome::ok;
}

// The reference takes XCLIENT LOGIN= as the session's SASL identity even
// with SASL authentication turned off (method XCLIENT, "ESMTPA" in
// Received:); an XCLIENT without LOGIN= forgets it.
void sasl_xclient_login(Server&, Session& s, const std::optional<std::string>& login) {
    s.sasl_method.clear();
    s.sasl_username.clear();
    if (login) {
        s.sasl_method = "XCLIENT";
        s.sasl_username = util::printable(*login, false);
    }
}

std::optional<std::string> sasl_mail_option(Server&, Session& s, std::string_view value) {
    if (!s.sasl_sender.empty()) return std::string("503 5.5.4 Error: multiple AUTH= options");
    if (value != "<>") s.sasl_sender = util::printable(value, false);
    return std::nullopt;
}

std::string sasl_log_suffix(const Session& s) {
    std::string out;
    if (!s.sasl_method.empty()) out += fmt::format(", sasl_method={}", s.sasl_method);
    if (!s.sasl_username.empty()) out += fmt::format(", sasl_username={}", s.sasl_username);
    if (!s.sasl_sender.empty()) out += fmt::format(", sasl_sender={}", s.sasl_sender);
    return out;
}

void sasl_cleanup_attributes(const Session& s, ipc::CleanupClient& c) {
    if (!s.sasl_method.empty()) (void)c.write_attr("sasl_method", s.sasl_method);
    if (!s.sasl_username.empty()) (void)c.write_attr("sasl_username", s.sasl_username);
    if (!s.sasl_sender.empty()) (void)c.write_attr("sasl_sender", s.sasl_sender);
}

std::string sasl_received_protocol(const Session& s) {
    if (s.protocol != "ESMTP") return s.smtputf8 ? "UTF8" + s.protocol : s.protocol;
    std::string out = s.smtputf8 ? "UTF8SMTP" : "ESMTP";
    if (s.tls_active) out += "S";
    if (!s.sasl_username.empty()) out += "A";
    return out;
}

std::string sasl_received_sender_line(const Server& server, const Session& s) {
    if (!server.settings.sasl || !server.settings.sasl->authenticated_header || s.sasl_username.empty()) return "";
    return fmt::format("\t(Authenticated sender: {})", s.sasl_username);
}

}  // namespace pf::smtpd
