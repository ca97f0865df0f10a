// smtpd's TLS: which level the server offers (smtpd_tls_security_level,
// or the legacy smtpd_use_tls/smtpd_enforce_tls, and wrapper mode for the
// "smtps" port 465 service), the server context built once at start-up
// (before the chroot: the key is read as root), the STARTTLS command
// with the reference's replies, the handshake with its log lines, the
// client-certificate requirement, and the lines the Received: header
// gets with smtpd_tls_received_header.
//
// OpenSSL is not linked into smtpd: the context and the handshake live in
// the module smtpd-tls.so, loaded here only when TLS is offered (see
// smtpd_tls_module.h).
//
// Trust: settings are configuration; the handshake is with a hostile
// peer (see tls/tls_session.h).
#pragma once

#include "daemon/smtpd/smtpd_tls_module.h"

#include <memory>
#include <string>
#include <vector>

namespace pf::config { class Config; }

namespace pf::smtpd {

struct Server;
struct Session;
struct CheckState;

struct TlsSettings {
    bool use_tls = false;          // STARTTLS offered (level may or encrypt)
    bool enforce_tls = false;      // level encrypt (or wrapper mode)
    bool auth_only = false;        // smtpd_tls_auth_only (or enforce)
    bool wrappermode = false;      // smtpd_tls_wrappermode: TLS at connect
    bool received_header = false;
    bool ask_ccert = false;
    bool req_ccert = false;        // only with enforce
    int starttls_timeout = 300;
    std::string cipher_grade;
    std::string cipher_exclusions;
    std::shared_ptr<TlsServer> context;     // nullptr: TLS unavailable (smtpd-tls.so)

    static TlsSettings from_config(const config::Config& config);
};

// STARTTLS (discarded: smtpd_discard_ehlo_keywords names it). Returns true when the command succeeded (TLS is now active);
// on a failed handshake the session is marked over ("lost connection").
bool smtpd_starttls(Server& server, Session& s, std::size_t argc, bool discarded);

// Wrapper mode: the handshake before the greeting. false: the session is
// over (logged).
bool smtpd_wrapper_start(Server& server, Session& s);

// The "(using TLSv1.3 with cipher ...)" lines (each a header line of its
// own, starting with a tab) after "Received: from ...", or nothing.
std::vector<std::string> tls_received_lines(const Server& server, const Session& s);

// The TLS facts the restrictions see (check_ccert_access,
// permit_tls_clientcerts, the policy protocol's encryption_* and ccert_*
// attributes); nothing when TLS is not active.
void tls_check_state(const Session& s, CheckState& c);

// Sends close_notify and switches the stream back to the socket (end of
// session).
void smtpd_tls_stop(Server& server, Session& s);

}  // namespace pf::smtpd
