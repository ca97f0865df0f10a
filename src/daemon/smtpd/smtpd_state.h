// smtpd's per-process settings and per-connection state: what the
// reference's smtpd keeps in its SMTPD_STATE (client identity, HELO name,
// the mail transaction, the cleanup stream, error and command counters).
// One connection at a time per process (single-server), so one Session
// lives for the length of one client.
//
// Trust: everything in Session that came from the client is raw network
// bytes; Settings come from main.cf and -o overrides (trusted).
#pragma once

#include "config/config.h"
#include "mail/ehlo_mask.h"
#include "mail/namadr_list.h"
#include "daemon/smtpd/smtpd_sink.h"
#include "ipc/cleanup_client.h"
#include "smtp/smtp_stream.h"
#include "daemon/smtpd/smtpd_tls.h"   // TlsSettings, TlsConnection

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pf::dict { class Dict; }
namespace pf::mail { class Maps; }
namespace pf::sasl { class ServerSession; }

namespace pf::smtpd {

class Restrictions;
struct SaslContext;   // smtpd_sasl.h
class Proxy;          // smtpd_proxy.h

// How smtpd_forbid_bare_newline treats a bare LF.
enum class BareNewline { no, normalize, reject };

// The EHLO keywords a session may have discarded (smtpd_discard_ehlo_keywords
// and smtpd_discard_ehlo_keyword_address_maps), as bits of
// Session::ehlo_discard_mask: a discarded keyword is also refused as a
// command or parameter.
enum EhloBit : unsigned {
    kPipelining = mail::kEhloPipelining, kSize = mail::kEhloSize, kVrfy = mail::kEhloVrfy,
    kEtrn = mail::kEhloEtrn, kXclient = mail::kEhloXclient, kXforward = mail::kEhloXforward,
    kEnhanced = mail::kEhloEnhancedStatusCodes, k8bitmime = mail::kEhlo8bitmime, kDsn = mail::kEhloDsn,
    kSmtputf8 = mail::kEhloSmtputf8, kChunking = mail::kEhloChunking, kStarttls = mail::kEhloStarttls,
    kAuth = mail::kEhloAuth, kSilent = mail::kEhloSilent,
};

struct Settings {
    std::string myhostname;
    std::string mail_name;
    std::string banner;                 // smtpd_banner, expanded
    std::string queue_directory;
    std::string cleanup_service = "cleanup";
    std::string content_filter;         // content_filter (-o content_filter= on a re-injection smtpd)
    int timeout = 300;                  // smtpd_timeout
    std::size_t line_limit = 2048;      // line_length_limit
    std::uint64_t message_size_limit = 10240000;
    int recipient_limit = 1000;
    int recipient_overshoot_limit = 1000;
    int junk_command_limit = 100;
    int soft_error_limit = 10;
    int hard_error_limit = 20;
    int error_sleep_time = 1;
    bool disable_vrfy = false;
    bool helo_required = false;
    bool smtputf8_enable = true;
    bool peername_lookup = true;
    bool delay_open_until_valid_rcpt = true;
    BareNewline bare_newline = BareNewline::no;
    int bare_newline_reject_code = 550;
    unsigned discard_ehlo = 0;   // smtpd_discard_ehlo_keywords as EhloBit bits
    // smtpd_discard_ehlo_keyword_address_maps: keyword lists by client
    // address (looked up once per connection, smtpd_commands.cpp).
    std::shared_ptr<mail::Maps> discard_ehlo_maps;
    bool ipv6_enabled = false;               // inet_protocols names ipv6 (XCLIENT/XFORWARD addresses)
    bool ipv4_enabled = false;               // inet_protocols names ipv4 (the client name's forward lookup)
    std::vector<std::string> noop_commands;  // lower case
    std::vector<std::string> forbidden_words;  // lower case
    std::vector<std::shared_ptr<dict::Dict>> forbidden_tables;
    std::unique_ptr<mail::NamadrList> xclient_hosts;
    std::unique_ptr<mail::NamadrList> xforward_hosts;
    std::unique_ptr<mail::NamadrList> bare_newline_exclusions;
    std::string reject_footer;
    std::shared_ptr<SaslContext> sasl;  // SASL AUTH settings (smtpd_sasl.cpp)
    TlsSettings tls;                     // STARTTLS / wrapper mode (smtpd_tls.cpp)

    static Settings from_config(const config::Config& config);
};

// One command's counters for the disconnect line ("mail=1", "rcpt=0/1").
struct CommandCount {
    const char* name;
    int ok = 0;
    int total = 0;
};

// Client attributes forwarded with XFORWARD (the reference's
// SMTPD_XFORWARD_ATTR); set only while a transaction's data is forwarded.
// What XFORWARD said about the original client, kept as the reference
// keeps it: the first XFORWARD that gets as far as its attributes presets
// the client attributes to "unknown" (present); each attribute is stored
// as it is read, so a command that fails half-way leaves its earlier
// attributes stored. The forwarded client attributes stand for the
// session's once a command that set one of them succeeded (client), the
// address context once a command that set it succeeded (domain_set), and
// the IDENT whenever one was stored.
struct Xforward {
    bool present = false;
    bool client = false;
    bool domain_set = false;
    std::string name, addr, rfc_addr, port, protocol, namaddr, domain;
    std::optional<std::string> helo, ident;
};

struct Session {
    explicit Session(int fd, int timeout) : stream(fd, timeout) {}

    smtp::SmtpStream stream;

    // The client as seen (or as XCLIENT says).
    std::string name = "unknown";        // verified name
    std::string reverse_name = "unknown";
    std::string addr;                    // printable address
    std::string rfc_addr;                // in Received: ("IPv6:..." for v6)
    std::string port = "unknown";
    std::string namaddr;                 // "name[addr]"
    int addr_family = 0;
    int name_status = 5;                 // 2 ok, 4 temp, 5 perm, 6 forged
    int reverse_name_status = 5;
    std::string server_addr, server_port;

    std::string helo_name;               // empty: none yet
    std::string protocol = "SMTP";
    bool ehlo_offered_pipelining = false;
    bool ill_pipelining = false;         // logged once
    unsigned ehlo_discard_mask = 0;
    bool ehlo_discard_error = false;     // the keyword table lookup failed

    // Where the session is, for "lost connection after X" and reject logs.
    std::string where = "CONNECT";

    // The transaction.
    bool in_mail = false;
    std::string sender;
    std::string rewrite_context = "local";   // local_header_rewrite_clients, decided at MAIL
    std::string encoding;                // "", "7bit", "8bit"
    std::string dsn_envid;
    int dsn_ret = 0;
    bool smtputf8 = false;
    std::uint64_t declared_size = 0;
    std::optional<MessageSink> cleanup;   // cleanup or postdrop (smtpd_sink.h)
    // smtpd_proxy_filter (smtpd_proxy.cpp): the client's MAIL FROM line as
    // received, and the filter connection that replaces the cleanup stream.
    std::string proxy_mail;
    std::shared_ptr<Proxy> proxy;
    std::string queue_id;
    std::string cleanup_error;           // first write error
    int rcpt_count = 0;
    int rcpt_overshoot = 0;
    std::string recipient;               // last accepted recipient
    std::time_t arrival_time = 0;
    // The policy protocol's "instance" of this transaction (set at MAIL:
    // pid, arrival time and a per-connection sequence number, in hex).
    std::string instance;
    unsigned instance_seqno = 0;
    // BDAT.
    bool bdat_active = false;            // a BDAT without LAST was accepted
    bool bdat_failed = false;            // skip the rest of the chunks
    std::uint64_t bdat_total = 0;
    bool bdat_prev_cr = false;           // the last chunk ended in CR
    std::string bdat_line;               // partial line across chunks
    bool bdat_prev_cont = false;         // the last content record was cut at the limit
    bool in_header = true;
    bool saw_bare_lf = false;
    std::uint64_t data_bytes = 0;        // content bytes read (lost connection logs)
    std::uint64_t act_size = 0;          // content size as the reference counts it
    unsigned cleanup_status = 0;         // CleanupStatus bits found by smtpd itself

    Xforward xforward;
    bool xclient_done = false;           // an XCLIENT has changed the client attributes
    mutable int xclient_permit = -1;     // smtpd_authorized_xclient_hosts verdict, a cache (-1: not yet known)
    std::string real_name, real_addr;    // the connection's client, before XCLIENT

    int error_count = 0;
    int junk_cmds = 0;
    std::vector<CommandCount> counts;
    CommandCount unknown{"unknown"};
    int commands_ok = 0, commands_total = 0;

    bool want_quit = false;              // the conversation is over
    std::string end_reason;              // "lost connection", "timeout", ...
    std::string command_line;            // the command being handled, as read
    bool access_denied = false;          // client rejected at connect (no delay)
    std::string access_denied_reply;

    // TLS: set by the STARTTLS code once the handshake is done.
    bool tls_active = false;
    std::unique_ptr<TlsConnection> tls;  // the handshake's session (smtpd_tls.cpp)
    // SASL (smtpd_sasl.cpp): the login once AUTH succeeded, MAIL FROM's
    // AUTH= value, and the back end's per-connection state.
    std::string sasl_method, sasl_username, sasl_sender;
    std::shared_ptr<sasl::ServerSession> sasl_session;
    bool sasl_session_tls = false;       // made for a TLS session
    bool sasl_used = false;              // an AUTH has used sasl_session
};

}  // namespace pf::smtpd
