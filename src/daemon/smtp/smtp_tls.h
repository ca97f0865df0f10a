// The smtp(8)/lmtp(8) client's TLS, as the reference's: the security level
// (smtp_tls_security_level, or the legacy smtp_use_tls/smtp_enforce_tls,
// overridden per destination by smtp_tls_policy_maps entries such as
// "encrypt", "verify match=hostname", "fingerprint match=AB:CD:..."),
// STARTTLS after EHLO (then EHLO again over TLS), or TLS at connect with
// smtp_tls_wrappermode; the server certificate checks of the verify,
// secure and fingerprint levels; and the deferrals with the reference's
// texts ("TLS is required, but was not offered by host X", "Cannot start
// TLS: handshake failure", "Server certificate not verified", ...).
//
// The OpenSSL side (contexts, handshake, certificate names) is in the
// module smtp-tls.so (smtp_tls_module.h), loaded by
// SmtpTlsSettings::from_config only when the settings can ask for TLS.
//
// Trust: settings are configuration; the server is remote and hostile.
#pragma once

#include "daemon/smtp/smtp_tls_module.h"
#include "smtp/smtp_client_reply.h"
#include "smtp/smtp_stream.h"
#include "tls/tls_level.h"

#include <memory>
#include <string>
#include <vector>

namespace pf::config { class Config; }
namespace pf::mail { class Maps; }

namespace pf::smtp_agent {

struct SmtpTlsSettings {
    std::string prefix = "smtp";      // "smtp" or "lmtp"
    std::string service;              // master.cf service name (session cache key)
    tls::Level level = tls::Level::kNone;
    bool wrappermode = false;
    int starttls_timeout = 300;
    int helo_timeout = 300;
    std::string helo_name;
    bool lmtp = false;
    std::string ciphers, mandatory_ciphers, exclude_ciphers, mandatory_exclude_ciphers;
    std::string verify_cert_match, secure_cert_match, fingerprint_cert_match;
    std::shared_ptr<mail::Maps> policy_maps;        // null: none
    std::shared_ptr<TlsClientContext> opportunistic;    // *_tls_protocols (smtp-tls.so)
    std::shared_ptr<TlsClientContext> mandatory;        // *_tls_mandatory_protocols
    std::string dane_no_match;                          // "num=N:text" (smtp-tls.so)
    bool engine_failed = false;                         // a context could not be built

    static std::shared_ptr<SmtpTlsSettings> from_config(const config::Config& config, bool lmtp);
};

// The level (and match list) for one destination.
struct TlsPolicy {
    tls::Level level = tls::Level::kNone;
    std::vector<std::string> matches;   // match= attributes, split at ':' (names) or kept (fingerprints)
    bool error = false;                 // the policy lookup failed: defer
    std::string nexthop;                // the destination as given (session cache key)
};
TlsPolicy tls_policy_for(const SmtpTlsSettings& settings, std::string_view nexthop);

// What a TLS step decided: go on, or end the session with this status
// and reason (the caller records it for every recipient).
struct TlsOutcome {
    bool ok = true;
    std::string status;   // "4.7.4", ...
    std::string reason;
    // The handshake itself failed (the connection is unusable; the
    // reference may try the server again in plaintext, see smtp_session).
    bool handshake_failed = false;
};

// After a 2xx EHLO reply: STARTTLS when the policy asks for it and the
// server offers it, the handshake, the certificate checks, and EHLO again
// (features updated). tls receives the session when TLS is on. namaddr is
// "host[addr]" and relay "host[addr]:port" (the log lines' names).
TlsOutcome smtp_starttls(const SmtpTlsSettings& settings, const TlsPolicy& policy, smtp::SmtpStream& stream,
                         smtp::ServerFeatures& features, std::unique_ptr<TlsClientSession>& tls,
                         const std::string& host, const std::string& namaddr, const std::string& relay,
                         const std::string& nexthop);

// Wrapper mode: the handshake right after connecting.
TlsOutcome smtp_tls_wrapper(const SmtpTlsSettings& settings, const TlsPolicy& policy, smtp::SmtpStream& stream,
                            std::unique_ptr<TlsClientSession>& tls, const std::string& host, const std::string& relay,
                            const std::string& nexthop);

}  // namespace pf::smtp_agent
