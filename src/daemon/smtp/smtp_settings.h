// The smtp(8)/lmtp(8) client's parameters, read once at start-up: the
// smtp_* family, or the lmtp_* family when the program runs as lmtp (the
// reference's binary is installed under both names and picks the family
// and the protocol from its program name).
//
// Trust: main.cf and master.cf -o overrides (our own configuration); bad
// values are fatal at start-up, as the reference's.
#pragma once

#include "mail/mail_addr_find.h"

#include <memory>
#include <string>
#include <vector>

namespace pf::config { class Config; }

namespace pf::smtp_agent {

struct SmtpTlsSettings;   // smtp_tls.h
struct SmtpSaslSettings;  // smtp_sasl.h
struct SmtpCacheSettings; // smtp_cache.h

struct SmtpSettings {
    bool lmtp = false;
    std::string default_port = "smtp";   // smtp: "smtp"; lmtp: lmtp_tcp_port
    int connect_timeout = 30;
    int helo_timeout = 300;
    int mail_timeout = 300;
    int rcpt_timeout = 300;
    int data_init_timeout = 120;
    int data_xfer_timeout = 180;
    int data_done_timeout = 600;
    int quit_timeout = 300;
    int rset_timeout = 20;
    int xforward_timeout = 300;
    bool send_xforward = false;          // smtp_send_xforward_command
    bool disable_mime_oconv = false;     // disable_mime_output_conversion
    std::shared_ptr<mail::Maps> generic_maps;  // smtp_generic_maps (null: none)
    bool generic_propagate = false;      // propagate_unmatched_extensions has "generic"
    mail::AddrFindContext find_ctx;      // for generic lookups
    // smtp_header_checks, smtp_mime_header_checks, smtp_nested_header_checks,
    // smtp_body_checks (null: none).
    std::shared_ptr<mail::Maps> header_checks, mime_header_checks, nested_header_checks, body_checks;
    std::string helo_name;
    std::shared_ptr<SmtpTlsSettings> tls;   // TLS level, contexts, policy maps (smtp_tls.cpp)
    std::shared_ptr<SmtpSaslSettings> sasl; // SASL client (smtp_sasl.cpp)
    std::shared_ptr<SmtpCacheSettings> cache; // connection caching (smtp_cache.cpp)
    bool skip_5xx_greeting = true;
    bool always_send_ehlo = true;
    bool never_send_ehlo = false;
    bool skip_quit_response = true;
    std::vector<std::string> fallback_relays;
    std::size_t line_limit = 2048;       // longest reply line kept (the reference's line_length_limit)
    std::size_t content_line_limit = 998;  // smtp_line_length_limit: longer content lines are broken (0: never)
    std::string myhostname;              // the peer name of a UNIX-domain server
    bool ipv4 = true;
    bool ipv6 = true;
    // minimal_backoff_time: a message that waited this long before the
    // queue manager took it may fall back to plaintext after a failed
    // opportunistic TLS handshake.
    int min_backoff = 300;
    // From master.cf: flags=DORX (smtp_cli_attr.h) and the service name
    // (for the D/O flags' warnings and deferrals).
    unsigned cli_flags = 0;
    std::string service;

    static SmtpSettings from_config(const config::Config& config, bool lmtp);
};

}  // namespace pf::smtp_agent
