// smtpd's access-restriction engine: the interface the SMTP protocol engine
// calls at each stage of a session (connect, HELO/EHLO, MAIL, RCPT, DATA,
// end of data, ETRN, VRFY) to evaluate smtpd_client_restrictions,
// smtpd_helo_restrictions, smtpd_sender_restrictions,
// smtpd_relay_restrictions, smtpd_recipient_restrictions,
// smtpd_data_restrictions, smtpd_end_of_data_restrictions and
// smtpd_etrn_restrictions as the reference's smtpd does, with the same
// reply texts and the same "NOQUEUE: reject: ..." log lines.
//
// How the protocol engine uses it (the reference's call sites):
//  - one SmtpdCheck per process, built at start-up from the configuration
//    (throws std::runtime_error for configuration errors the reference
//    treats as fatal at start-up);
//  - begin_session() when a client connects, end_session() when it goes;
//    reset_transaction() on RSET, after DATA, and when MAIL fails;
//  - each check_*() is called unconditionally at its stage: with
//    smtpd_delay_reject = yes the client/HELO/MAIL checks return "no
//    decision" and are re-run (cached) from check_rcpt(), as the reference
//    does it. A reply that is not empty is sent as is (it carries the
//    status code, the enhanced status code and the text, no CRLF);
//  - every line the reference logs while evaluating (reject, warn, hold,
//    discard, filter, redirect, info, ...) is returned in
//    CheckResult::log, in order, and the engine writes each through
//    util::msg_info (warnings about the configuration and about tables are
//    written directly with util::msg_warn, as the reference does);
//  - the message actions (HOLD, DISCARD, FILTER, REDIRECT, BCC, PREPEND)
//    pile up in actions() for the current transaction; the engine hands them
//    to cleanup (flags, filter/redirect records, extra recipients, a header
//    prepended to the message) and clears them with reset_transaction().
//
// Build: these files (smtpd_check*.cpp) are part of the smtpd executable;
// the unit tests compile each of them through
// tests/unit/daemon/smtpd/smtpd_check_src_*.cpp, so a unit-test sources
// file of the protocol engine must not include them again.
//
// Trust: everything in CheckState comes from the network (or from DNS) and
// is treated as arbitrary bytes; the restriction lists and tables come from
// the configuration (trusted, but checked: an unknown restriction name is a
// warning and a "451 4.3.5 Server configuration error" reply, as in the
// reference); policy servers and DNS answers are outside input.
#pragma once

#include "config/config.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::smtpd {

// Result of a reverse/forward name lookup of the client, as the
// reference's smtpd records it (SMTPD_PEER_CODE_*).
enum class NameStatus {
    ok = 2,       // name found, and it maps back to the address
    temp = 4,     // temporary lookup failure
    perm = 5,     // no name (or the name does not resolve)
    forged = 6,   // the name does not map back to the client address
};

// What the protocol engine knows when it asks. Strings are in the form the
// reference keeps them: addresses unquoted (internal form) without <>,
// the null sender as an empty string with has_sender set.
struct CheckState {
    // Client (after XCLIENT, the values XCLIENT gave).
    std::string client_name = "unknown";   // verified name, or "unknown"
    std::string reverse_name = "unknown";  // PTR name, or "unknown"
    std::string client_addr;                // "1.2.3.4", "2001:db8::1" (no brackets, no IPv6: prefix)
    std::string peer_addr;                  // the connection's own client address, before XCLIENT
                                            // (permit_inet_interfaces looks at it; empty: client_addr)
    std::string client_port;                // "12345" or "unknown"
    NameStatus name_status = NameStatus::perm;
    NameStatus reverse_name_status = NameStatus::perm;
    std::string server_addr;                // local end of the connection
    std::string server_port;
    int address_family = 0;                 // AF_INET / AF_INET6 (0: unknown)

    // The command being checked, when the default of the check_*() call
    // does not fit ("BDAT" for check_data during BDAT); it shows in the
    // log lines ("RCPT from ...") and the policy protocol_state.
    std::string where;

    // Session.
    std::string helo_name;                  // empty: no HELO/EHLO yet
    std::string protocol = "SMTP";          // "SMTP" / "ESMTP" (after XCLIENT its value)
    bool pipelining_violation = false;      // client sent ahead without PIPELINING (reject_unauth_pipelining)
    bool smtputf8 = false;                  // SMTPUTF8 requested for this transaction

    // Transaction.
    bool has_sender = false;                // MAIL FROM was accepted (sender may then be empty: <>)
    std::string sender;
    std::string recipient;                  // the RCPT/VRFY address being checked
    std::string queue_id;                   // empty: NOQUEUE
    std::string instance;                   // policy "instance": "pid.sec.usec.seqno" (hex) set at MAIL
    std::size_t message_size = 0;           // SIZE= value at MAIL/RCPT, actual size at end of data
    std::size_t recipient_count = 0;        // accepted recipients so far
    std::string etrn_domain;                // the ETRN argument (check_etrn)

    // SASL (empty when the client did not authenticate).
    std::string sasl_method;
    std::string sasl_username;
    std::string sasl_sender;                // MAIL FROM ... AUTH=<...>

    // TLS (empty when the session is not encrypted).
    std::string tls_protocol;               // "TLSv1.3"
    std::string tls_cipher;                 // "TLS_AES_256_GCM_SHA384"
    int tls_cipher_bits = 0;
    bool ccert_verified = false;            // client certificate trusted
    std::string ccert_subject;              // peer CommonName
    std::string ccert_issuer;               // issuer CommonName
    std::string ccert_fingerprint;          // per smtpd_tls_fingerprint_digest, "AA:BB:..."
    std::string ccert_pubkey_fingerprint;
};

// One reply per check at most; empty reply: no decision (carry on).
struct CheckResult {
    std::string reply;                      // "554 5.7.1 <x@y>: Relay access denied"
    std::vector<std::string> log;           // lines for util::msg_info, in order
    // Why the reply was given, for the engine's notify_classes and error
    // accounting: "policy", "protocol", "resource", "software" (empty when
    // reply is empty).
    std::string error_class;
    // HANGUP access action: the engine closes the connection without a
    // reply (the log line is in log).
    bool hangup = false;

    bool rejected() const { return !reply.empty(); }
    bool is_permanent() const { return !reply.empty() && reply[0] == '5'; }
};

// Actions requested by access tables and policy servers for the current
// transaction (the reference's saved_flags, saved_filter, saved_redirect,
// saved_bcc and prepend).
struct MessageActions {
    bool hold = false;                      // put the message on hold
    bool discard = false;                   // accept, then throw away; later checks skipped
    std::string filter;                     // "transport:destination" (last one wins)
    std::string redirect;                   // one address (last one wins)
    std::vector<std::string> bcc;           // extra recipients (BCC action)
    std::vector<std::string> prepend;       // header lines to prepend, in order
    std::string delay;                      // DELAY action (reserved; 3.7 has no DELAY)
};

// The outside services the checks use, replaceable in tests. Each one
// returns found / not found / error in its own way, and a temporary error
// always becomes a 4xx reply, never a "not found".
struct CheckServices {
    // DNS: answers of one type for a name ("A", "AAAA", "MX", "NS", "PTR",
    // "TXT"); MX answers are host names (without preference), A/AAAA are
    // printable addresses. Empty vector: no such record (NXDOMAIN or
    // NODATA); unexpected: a temporary failure (text for the log).
    struct DnsAnswer {
        enum class Status { ok, not_found, nxdomain, temp_fail, perm_fail };
        Status status = Status::not_found;
        std::vector<std::string> values;
    };
    std::function<DnsAnswer(std::string_view name, std::string_view type)> dns;

    // trivial-rewrite: resolve an address (internal form) to its address
    // class flags (ipc/services.h kResolve* bits), transport, nexthop and
    // recipient. Error text: the service is unavailable (4xx).
    struct Resolved {
        unsigned flags = 0;
        std::string transport;
        std::string nexthop;
        std::string recipient;
    };
    std::function<std::optional<Resolved>(std::string_view sender, std::string_view address)> resolve;

    // A connection to a policy server named "inet:host:port" or
    // "unix:/path" (relative paths are under queue_directory): returns a
    // connected fd owned by the caller, or -1.
    std::function<int(std::string_view endpoint)> policy_connect;

    // sleep restriction and the like; the default really sleeps.
    std::function<void(int seconds)> sleep;

    // The address verification service (reject_unverified_sender,
    // reject_unverified_recipient): status is the recipient status
    // (0 deliverable, 1 deferred, 2 bounced, 3 probe in progress);
    // nullopt: the service failed.
    struct VerifyResult {
        int status = 3;
        std::string reason;
    };
    std::function<std::optional<VerifyResult>(std::string_view address)> verify;
};

class SmtpdCheck {
public:
    // Reads every restriction list, smtpd_restriction_classes, the tables
    // they name and the parameters the checks use. services members left
    // empty get the real implementations (system resolver, private/rewrite,
    // sockets).
    SmtpdCheck(const config::Config& config, CheckServices services = {});
    ~SmtpdCheck();
    SmtpdCheck(const SmtpdCheck&) = delete;
    SmtpdCheck& operator=(const SmtpdCheck&) = delete;

    void begin_session();
    void end_session();
    // RSET, end of DATA, failed MAIL: forget sender-level state and actions.
    void reset_transaction();

    CheckResult check_client(const CheckState& state);   // after connect
    CheckResult check_helo(const CheckState& state);     // HELO/EHLO (state.helo_name set)
    CheckResult check_mail(const CheckState& state);     // MAIL FROM (state.sender set)
    CheckResult check_rcpt(const CheckState& state);     // RCPT TO (state.recipient set)
    CheckResult check_vrfy(const CheckState& state);     // VRFY (state.recipient set)
    CheckResult check_data(const CheckState& state);     // DATA / BDAT first chunk
    CheckResult check_eod(const CheckState& state);      // end of message data
    CheckResult check_etrn(const CheckState& state);     // ETRN (state.etrn_domain set)
    // MAIL FROM SIZE=: message_size_limit and queue_minfree.
    CheckResult check_size(const CheckState& state);

    // local_header_rewrite_clients (the reference's smtpd_check_rewrite, at
    // MAIL): sets context to "local" or "remote"; a table error gives a
    // "451 4.3.0 Temporary lookup error" / "451 4.3.5 Server configuration
    // error" reply.
    CheckResult check_rewrite(const CheckState& state, std::string& context);

    const MessageActions& actions() const;
    bool delay_reject() const;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace pf::smtpd
