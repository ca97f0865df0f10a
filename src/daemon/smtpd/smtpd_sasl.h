// SMTP AUTH in smtpd, as the reference's smtpd_sasl_proto and
// smtpd_sasl_glue modules do it: the settings (smtpd_sasl_*,
// broken_sasl_auth_clients, smtpd_tls_auth_only), the EHLO "AUTH" (and
// "AUTH=") lines, the AUTH command with its checks, "334" challenges,
// "*" to cancel and the replies and warnings word for word, MAIL FROM's
// AUTH= parameter, and what an authenticated session adds to the
// "client=" log line, the queue file and the Received: header.
//
// Trust: AUTH arguments and responses are client bytes, bounded by
// smtpd_sasl_response_limit and handed to the SASL back end (src/sasl).
#pragma once

#include "daemon/smtpd/smtpd_session.h"
#include "sasl/sasl_server.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pf::smtpd {

struct SaslContext {
    bool enable = false;                    // smtpd_sasl_auth_enable
    std::string service;                    // smtpd_sasl_service
    std::string realm;                      // smtpd_sasl_local_domain
    std::string security_options;           // smtpd_sasl_security_options
    std::string tls_security_options;       // smtpd_sasl_tls_security_options
    std::string mechanism_filter;           // smtpd_sasl_mechanism_filter
    bool broken_clients = false;            // broken_sasl_auth_clients
    bool authenticated_header = false;      // smtpd_sasl_authenticated_header
    bool tls_auth_only = false;             // smtpd_tls_auth_only
    std::size_t response_limit = 12288;     // smtpd_sasl_response_limit
    std::unique_ptr<mail::NamadrList> exceptions; // smtpd_sasl_exceptions_networks
    std::unique_ptr<sasl::ServerBackend> backend;
};

// Reads the settings and, with smtpd_sasl_auth_enable, initializes the
// back end (before the chroot). Fatal on a bad value, as the reference.
std::shared_ptr<SaslContext> sasl_settings(const config::Config& config);

// At the start of a connection (before the greeting): the SASL state is
// made; without any mechanism to offer the process ends, as the
// reference's ("fatal: no SASL authentication mechanisms").
void sasl_connect(Server& server, Session& s);

// The EHLO lines for AUTH ("AUTH ..." and with broken_sasl_auth_clients
// "AUTH=..."); none when AUTH is not on offer to this client.
std::vector<std::string> sasl_ehlo_lines(Server& server, Session& s);

// The AUTH command.
Outcome sasl_auth_command(Server& server, Session& s, const std::vector<Token>& args);

// XCLIENT: LOGIN=name makes the session authenticated as name (method
// "XCLIENT") when SASL is on; without LOGIN the session is not
// authenticated any more.
void sasl_xclient_login(Server& server, Session& s, const std::optional<std::string>& login);

// MAIL FROM's AUTH=value. Returns the error reply, or nullopt when taken.
std::optional<std::string> sasl_mail_option(Server& server, Session& s, std::string_view value);
// Whether AUTH= is handled here (SASL on); otherwise it is ignored.
bool sasl_active(const Server& server);

// ", sasl_method=M, sasl_username=U, sasl_sender=S" for "client=".
std::string sasl_log_suffix(const Session& s);
// The named attributes an authenticated session adds to the envelope.
void sasl_cleanup_attributes(const Session& s, ipc::CleanupClient& cleanup);
// The Received: header's protocol word (ESMTP with A for an authenticated
// session; the TLS "S" comes from tls_active) and the optional
// "(Authenticated sender: u)" line ("" when none).
std::string sasl_received_protocol(const Session& s);
std::string sasl_received_sender_line(const Server& server, const Session& s);

}  // namespace pf::smtpd
