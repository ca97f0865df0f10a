// The server side of SASL as the reference's smtpd sees it (its xsasl
// server layer): one process-wide back end chosen by smtpd_sasl_type
// ("cyrus": the Cyrus SASL library with its smtpd.conf; "dovecot":
// Dovecot's auth protocol on a socket), and one ServerSession per client
// connection that lists the mechanisms offered in EHLO and runs one
// exchange of challenges and responses per AUTH command.
//
// Trust: mechanism names and responses come from the SMTP client and are
// passed on bounded (the caller limits line lengths); what the back end
// answers is trusted to the extent of the back end (the Dovecot socket's
// lines are parsed strictly, see dovecot_protocol.h).
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pf::sasl {

// The outcome of one step, as the reference's XSASL_AUTH_* codes.
enum class AuthStatus {
    done,   // authenticated
    more,   // reply holds the next challenge (base64) for a "334" line
    fail,   // reply holds the reason; smtpd answers 535
    temp,   // reply holds the reason; smtpd answers 454
};

// What one connection's session needs to know.
struct SessionParams {
    std::string service = "smtp";        // smtpd_sasl_service
    std::string server_fqdn;             // myhostname (CRAM-MD5 challenges name it)
    std::string user_realm;              // smtpd_sasl_local_domain ("" none)
    std::string server_addr, server_port;
    std::string client_addr, client_port;
    std::string security_options;        // smtpd_sasl_(tls_)security_options
    bool tls = false;                    // the session is encrypted
};

class ServerSession {
public:
    virtual ~ServerSession() = default;
    // Space-separated mechanisms ("" when none).
    virtual std::string mechanism_list() = 0;
    // Starts an exchange; initial is the AUTH command's second word.
    virtual AuthStatus first(std::string_view mechanism, std::optional<std::string_view> initial,
                             std::string& reply) = 0;
    // One client response to the last challenge (the line as received).
    virtual AuthStatus next(std::string_view response, std::string& reply) = 0;
    // The login name, once known (also after a failure, when the back end
    // says whose login it was); nullopt when unavailable.
    virtual std::optional<std::string> username() = 0;
};

class ServerBackend {
public:
    virtual ~ServerBackend() = default;
    virtual std::expected<std::unique_ptr<ServerSession>, std::string> create(const SessionParams& params) = 0;
};

// The back end for smtpd_sasl_type and smtpd_sasl_path (Cyrus: the
// application name, whose <name>.conf is read from
// $config_directory/sasl as Debian's Postfix does; Dovecot: the socket,
// "unix:path", "inet:host:port" or a path relative to queue_directory).
// Called once per process before the chroot; a type not supported is
// fatal, as in the reference ("unsupported SASL server implementation").
std::unique_ptr<ServerBackend> server_backend(std::string_view type, std::string_view path,
                                              std::string_view config_directory);

// The Cyrus SASL security flags of a security option list
// ("noanonymous, noplaintext, ..."); an unknown word is fatal with the
// parameter's name.
unsigned security_flags(std::string_view options, std::string_view parameter);

// The reference's mechanism filter (smtpd_sasl_mechanism_filter): each
// offered mechanism is kept when the first matching pattern of the filter
// is not negated ("!name"); the word "static:rest" (any type:table of the
// filter is taken as matching everything) keeps the rest. Names compare
// case-insensitively.
std::string filter_mechanisms(std::string_view mechanisms, std::string_view filter);

}  // namespace pf::sasl
