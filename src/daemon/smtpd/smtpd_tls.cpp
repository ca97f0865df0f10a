// smtpd's TLS (see smtpd_tls.h): settings, STARTTLS, wrapper mode, the
// handshake's log lines and the Received: header's TLS lines, each as the
// reference's smtpd produces them. The OpenSSL side (context, handshake)
// is in smtpd-tls.so, loaded by TlsSettings::from_config when TLS is
// offered.
//
// Trust: settings are configuration; the peer is hostile (OpenSSL parses
// its bytes; certificate names are printable-only before use). The module
// is found beside this program.
#include "daemon/smtpd/smtpd_tls.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "daemon/smtpd/smtpd_anvil.h"
#include "daemon/smtpd/smtpd_session.h"
#include "tls/tls_level.h"
#include "util/msg.h"
#include "util/shared_library.h"

#include <fmt/core.h>

#include <climits>
#include <unistd.h>

namespace pf::smtpd {

namespace {

bool get_bool(const config::Config& config, std::string_view name) {
    std::string value = config.get(name);
    auto v = config::parse_bool_value(value);
    if (!v) util::msg_fatal("bad boolean configuration: {} = {}", name, value);
    return *v;
}

// smtpd-tls.so's entry point. The module is looked for in the directory
// of the running program (/proc/self/exe, read before the chroot), where
// it is installed and built, else (no /proc) in daemon_directory; a
// missing module is fatal as a table module that does not load is
// ("load_library_symbols: dlopen failure loading ...").
TlsModuleInit* tls_module(const config::Config& config) {
    std::string path = util::module_beside_program(config.get("daemon_directory"), kTlsModuleFile);
    TlsModuleInit* init = nullptr;
    util::bind_library_function(init, util::load_library(path.c_str()), path.c_str(), kTlsModuleInit);
    return init;
}

// Parentheses and backslashes in a certificate name would break the
// Received: comment: the reference's comment_sanitize() keeps the text
// but balances it; a simple, safe equivalent drops what cannot nest.
std::string comment_safe(std::string_view text) {
    std::string out;
    int depth = 0;
    for (char c : text) {
        if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (depth == 0) continue;
            --depth;
        } else if (c == '\\') {
            continue;
        }
        out.push_back(c);
    }
    while (depth-- > 0) out.push_back(')');
    return out;
}

// The handshake, shared by STARTTLS and wrapper mode. false: no TLS (the
// session is over, logged).
bool start_tls(Server& server, Session& s) {
    const TlsSettings& t = server.settings.tls;
    tls::StartOptions opts;
    opts.timeout = t.starttls_timeout;
    opts.namaddr = s.namaddr;
    opts.cipher_grade = t.cipher_grade;
    opts.cipher_exclusions = t.cipher_exclusions;
    opts.require_cert = t.req_ccert && t.enforce_tls;
    // The service partitions the session cache, as the reference's.
    opts.serverid = server.config ? server.config->get("service_name") : std::string("smtp");
    auto session = t.context->accept(s.stream.fd(), opts);
    if (!session) {
        (void)anvil_newtls_over_limit(server, s, false);  // a failed handshake counts too
        s.end_reason = "lost connection";
        s.want_quit = true;
        return false;
    }
    if (t.context->log_mask() & tls::kLogSummary) util::msg_info_text(session->summary_line());
    s.tls = std::move(session);
    s.stream.set_transport(s.tls.get());
    s.tls_active = true;
    // smtpd_client_new_tls_session_rate_limit: resumed sessions are free.
    if (!s.tls->reused() && anvil_newtls_over_limit(server, s, true)) {
        s.want_quit = true;
        return false;
    }
    const bool require = t.req_ccert && t.enforce_tls;
    if (require && !s.tls->peer().trusted) {
        bool present = s.tls->peer().cert_present;
        const char* why = present ? "Client certificate not trusted" : "No client certificate presented";
        util::msg_info("NOQUEUE: abort: TLS from {}: {}", s.namaddr, why);
        // Outside wrapper mode the client's next command (EHLO) is read
        // first, then refused with 421.
        if (!t.wrappermode) (void)s.stream.read_line(server.settings.line_limit, true);
        reply(server, s, fmt::format("421 4.7.1 {} Error: {}", server.settings.myhostname, why));
        s.want_quit = true;
        return false;
    }
    return true;
}

}  // namespace

TlsSettings TlsSettings::from_config(const config::Config& config) {
    TlsSettings t;
    t.wrappermode = get_bool(config, "smtpd_tls_wrappermode");
    t.use_tls = get_bool(config, "smtpd_use_tls");
    t.enforce_tls = get_bool(config, "smtpd_enforce_tls");
    t.auth_only = get_bool(config, "smtpd_tls_auth_only");
    if (!t.wrappermode) {
        auto wanted = tls::server_tls_from_level("smtpd_tls_security_level", config.get("smtpd_tls_security_level"),
                                              {t.use_tls, t.enforce_tls});
        t.use_tls = wanted.use;
        t.enforce_tls = wanted.enforce;
    }
    t.enforce_tls = t.wrappermode || t.enforce_tls;
    t.auth_only = t.auth_only || t.enforce_tls;
    t.use_tls = t.use_tls || t.enforce_tls;
    t.received_header = get_bool(config, "smtpd_tls_received_header");
    t.ask_ccert = get_bool(config, "smtpd_tls_ask_ccert");
    t.req_ccert = get_bool(config, "smtpd_tls_req_ccert");
    std::string tmout = config.get("smtpd_starttls_timeout");
    auto secs = config::parse_time_value(tmout, 's');
    if (!secs) util::msg_fatal("invalid smtpd_starttls_timeout parameter value: \"{}\"", tmout);
    t.starttls_timeout = *secs > 0 ? *secs : 1;
    if (!t.use_tls) return t;

    // The context, its warnings and the cipher choices: smtpd-tls.so.
    tls_module(config)(config, t);
    return t;
}

bool smtpd_starttls(Server& server, Session& s, std::size_t argc, bool discarded) {
    const TlsSettings& t = server.settings.tls;
    if (argc != 0) {
        fail(server, s, "501 5.5.4 Syntax: STARTTLS");
        return false;
    }
    if (s.tls_active) {
        fail(server, s, "554 5.5.1 Error: TLS already active");
        return false;
    }
    if (!t.use_tls || discarded) {
        fail(server, s, "502 5.5.1 Error: command not implemented");
        return false;
    }
    if (!t.context) {
        fail(server, s, "454 4.7.0 TLS not available due to local problem");
        return false;
    }
    if (anvil_starttls_refused(server, s)) return false;
    reply(server, s, "220 2.0.0 Ready to start TLS");
    // What the client sent in the clear after STARTTLS is not part of the
    // encrypted conversation; the state so far is forgotten (RFC 3207).
    s.stream.set_transport(nullptr);
    reset_transaction(server, s);
    s.helo_name.clear();
    // A login made in plain text is forgotten too (RFC 3207 4.2), as the
    // reference resets SASL at STARTTLS; AUTH then runs with the TLS options.
    s.sasl_username.clear();
    s.sasl_method.clear();
    s.sasl_sender.clear();
    s.sasl_session.reset();
    s.sasl_used = false;
    // A refused client certificate still counts STARTTLS as done (the
    // handshake succeeded; the 421 follows).
    return start_tls(server, s) || s.tls_active;
}

bool smtpd_wrapper_start(Server& server, Session& s) {
    const TlsSettings& t = server.settings.tls;
    if (!t.context) {
        util::msg_warn("Wrapper-mode request dropped from {} for service {}. TLS context initialization failed. "
                       "For details see earlier warnings in your logs.",
                       s.namaddr, server.config ? server.config->get("service_name") : std::string("smtp"));
        s.want_quit = true;
        return false;
    }
    if (anvil_wrapper_refused(server, s)) {
        s.want_quit = true;
        return false;
    }
    return start_tls(server, s);
}

std::vector<std::string> tls_received_lines(const Server& server, const Session& s) {
    std::vector<std::string> out;
    if (!server.settings.tls.received_header || !s.tls_active || !s.tls) return out;
    const tls::HandshakeSummary& h = s.tls->summary();
    std::string buf = fmt::format("\t(using {} with cipher {} ({}/{} bits)", h.protocol, h.cipher, h.cipher_bits,
                                  h.cipher_alg_bits);
    bool cont = false;
    if (!h.kex_name.empty()) {
        out.push_back(buf);
        buf = fmt::format("\t key-exchange {}", h.kex_name);
        if (!h.kex_curve.empty()) buf += fmt::format(" ({})", h.kex_curve);
        else if (h.kex_bits > 0) buf += fmt::format(" ({} bits)", h.kex_bits);
        cont = true;
    }
    if (!h.srvr_sig_name.empty()) {
        if (cont) {
            buf += fmt::format(" server-signature {}", h.srvr_sig_name);
        } else {
            out.push_back(buf);
            buf = fmt::format("\t server-signature {}", h.srvr_sig_name);
        }
        if (!h.srvr_sig_curve.empty()) buf += fmt::format(" ({})", h.srvr_sig_curve);
        else if (h.srvr_sig_bits > 0) buf += fmt::format(" ({} bits)", h.srvr_sig_bits);
        if (!h.srvr_sig_dgst.empty()) buf += fmt::format(" server-digest {}", h.srvr_sig_dgst);
    }
    if (!h.clnt_sig_name.empty()) {
        out.push_back(buf);
        buf = fmt::format("\t client-signature {}", h.clnt_sig_name);
        if (!h.clnt_sig_curve.empty()) buf += fmt::format(" ({})", h.clnt_sig_curve);
        else if (h.clnt_sig_bits > 0) buf += fmt::format(" ({} bits)", h.clnt_sig_bits);
        if (!h.clnt_sig_dgst.empty()) buf += fmt::format(" client-digest {}", h.clnt_sig_dgst);
    }
    out.push_back(buf + ")");
    const tls::PeerInfo& p = s.tls->peer();
    if (p.cert_present)
        out.push_back(fmt::format("\t(Client CN \"{}\", Issuer \"{}\" ({}))", comment_safe(p.peer_CN),
                                  comment_safe(p.issuer_CN), p.trusted ? "verified OK" : "not verified"));
    else if (server.settings.tls.ask_ccert)
        out.push_back("\t(Client did not present a certificate)");
    else
        out.push_back("\t(No client certificate requested)");
    return out;
}

void tls_check_state(const Session& s, CheckState& c) {
    if (!s.tls_active || !s.tls) return;
    const tls::HandshakeSummary& h = s.tls->summary();
    const tls::PeerInfo& p = s.tls->peer();
    c.tls_protocol = h.protocol;
    c.tls_cipher = h.cipher;
    c.tls_cipher_bits = h.cipher_bits;
    c.ccert_verified = p.trusted;
    c.ccert_subject = p.peer_CN;
    c.ccert_issuer = p.issuer_CN;
    c.ccert_fingerprint = p.cert_fingerprint;
    c.ccert_pubkey_fingerprint = p.pkey_fingerprint;
}

void smtpd_tls_stop(Server&, Session& s) {
    if (!s.tls) return;
    s.stream.set_transport(nullptr);
    s.tls->shutdown(1);
    s.tls.reset();
}

}  // namespace pf::smtpd
