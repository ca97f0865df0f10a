// SASL authentication in the smtp/lmtp client, as the reference's
// smtp_sasl_* modules: after EHLO (and after STARTTLS with its second
// EHLO), when smtp_sasl_auth_enable is on and the server offers AUTH, the
// credentials are looked up in smtp_sasl_password_maps ("user:password"):
// by sender address first with smtp_sender_dependent_authentication, then
// by the server's host name, then by the next-hop destination as written
// in the request ("[host]:port"); none found: the mail goes without AUTH.
// The server's mechanisms pass smtp_sasl_mechanism_filter; the exchange
// runs "AUTH mech [initial]", "334" challenges, "235". A refusal defers
// (or with smtp_sasl_auth_soft_bounce = no, may bounce) with the
// reference's texts: "SASL authentication failed; server H[A] said: 535
// ..." and "SASL authentication failed; cannot authenticate to server
// H[A]: <reason>".
//
// Trust: credentials from our tables; server replies are remote and go
// only into DSN texts (bounded by the reply reader).
#pragma once

#include "daemon/smtp/smtp_session.h"
#include "mail/maps.h"

#include <memory>
#include <string>

namespace pf::config { class Config; }

namespace pf::smtp_agent {

struct SmtpSaslSettings {
    bool enable = false;                     // smtp_sasl_auth_enable
    std::string type = "cyrus";              // smtp_sasl_type
    std::string path;                        // smtp_sasl_path
    std::shared_ptr<mail::Maps> password_maps;
    std::string security_options;            // smtp_sasl_security_options
    std::string tls_security_options;        // smtp_sasl_tls_security_options
    std::string mechanism_filter;            // smtp_sasl_mechanism_filter
    bool sender_dependent = false;           // smtp_sender_dependent_authentication
    bool soft_bounce = true;                 // smtp_sasl_auth_soft_bounce

    // prefix: "smtp_" or "lmtp_". Loads the SASL library (before a chroot).
    static std::shared_ptr<SmtpSaslSettings> from_config(const config::Config& config, std::string_view prefix);
};

// What smtp_sasl_login() needs of the session.
struct SaslLoginContext {
    const SessionPeer* peer = nullptr;
    std::string sender;                      // the message's envelope sender
    std::string destination;                 // the next hop as in the request
    bool tls = false;
    int timeout = 300;                       // the EHLO time limit
    std::size_t line_limit = 2048;
    const mail::AddrFindContext* find_ctx = nullptr;
};

enum class SaslLogin { not_needed, ok, failed };

// Whether SASL is on and the password table has credentials for this
// server (the reference then never falls back to plaintext after a
// failed TLS handshake).
bool smtp_sasl_have_credentials(const SmtpSaslSettings& settings, const SaslLoginContext& ctx);

// Runs the exchange after EHLO. On failed, out has the session event.
SaslLogin smtp_sasl_login(const SmtpSaslSettings& settings, const SaslLoginContext& ctx, smtp::SmtpStream& stream,
                          const smtp::ServerFeatures& features, SessionResult& out);

}  // namespace pf::smtp_agent
