// Internals of smtpd's restriction engine, shared by the smtpd_check_*.cpp
// files (one concept each): the evaluation state the reference keeps in
// its SMTPD_STATE, the status values of a restriction, and the methods the
// files implement. Not for the protocol engine (it uses smtpd_check.h).
//
// Trust: as smtpd_check.h.
#pragma once

#include "daemon/smtpd/smtpd_check.h"
#include "mail/namadr_list.h"
#include "mail/address_domain_list.h"
#include "mail/maps.h"

#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::smtpd {

// The outcome of one restriction, as the reference's SMTPD_CHECK_*.
enum class Status { dunno, ok, reject, hangup };

// Reply names the reference puts in "<name>: <class> rejected: ...".
namespace reply_class {
inline constexpr std::string_view kClient = "Client host";
inline constexpr std::string_view kReverseClient = "Unverified Client host";
inline constexpr std::string_view kCcert = "Client certificate";
inline constexpr std::string_view kSaslUser = "SASL login name";
inline constexpr std::string_view kHelo = "Helo command";
inline constexpr std::string_view kSender = "Sender address";
inline constexpr std::string_view kRecipient = "Recipient address";
inline constexpr std::string_view kEtrn = "Etrn command";
inline constexpr std::string_view kData = "Data command";
inline constexpr std::string_view kEod = "End-of-data";
}  // namespace reply_class

// Error classes (notify_classes words).
namespace error_class {
inline constexpr std::string_view kPolicy = "policy";
inline constexpr std::string_view kProtocol = "protocol";
inline constexpr std::string_view kSoftware = "software";
inline constexpr std::string_view kResource = "resource";
inline constexpr std::string_view kData = "data";
inline constexpr std::string_view kBounce = "bounce";
}  // namespace error_class

// A postponed decision (defer_if_permit / defer_if_reject): the first
// reason wins.
struct Deferral {
    bool active = false;
    std::string error_class;
    int code = 0;
    std::string dsn;
    std::string reason;
};

// One evaluation: what the reference reads from SMTPD_STATE while a
// restriction list runs. Absent optionals are the reference's null
// pointers (no HELO yet, no MAIL yet, recipient hidden at DATA, ...).
struct Eval {
    const CheckState& in;
    CheckResult& out;
    std::string where;
    std::string namaddr;                    // "name[addr]"
    std::optional<std::string> helo;
    std::optional<std::string> sender;
    std::optional<std::string> recipient;
    std::optional<std::string> etrn;
};

// A restriction list, split as the reference splits it (commas and
// blanks, braces kept together).
using Restrictions = std::vector<std::string>;

// Parameters the checks read, fetched once at start-up.
struct CheckParams {
    bool delay_reject = true;
    bool soft_bounce = false;
    bool allow_untrusted_routing = false;
    bool relay_before_rcpt_checks = false;
    bool reject_unlisted_sender = false;
    bool reject_unlisted_recipient = true;
    bool show_unknown_rcpt_table = true;
    bool smtputf8_enable = false;
    bool sasl_enable = false;
    bool tls_ask_ccert = false;
    int reject_code = 554;
    int defer_code = 450;
    int relay_code = 554;
    int map_reject_code = 554;
    int map_defer_code = 450;
    int bad_name_code = 504;
    int non_fqdn_code = 504;
    int unknown_client_code = 450;
    int unknown_name_code = 450;
    int unknown_addr_code = 450;
    int plaintext_code = 450;
    int multi_rcpt_code = 550;
    int local_rcpt_code = 550;
    int virtual_mailbox_code = 550;
    int virtual_alias_code = 550;
    int relay_rcpt_code = 550;
    int unknown_name_tf_defer_if_permit = 1;   // 1: defer_if_permit, 0: defer
    int unknown_addr_tf_defer_if_permit = 1;
    // reject_unverified_sender / reject_unverified_recipient.
    int unv_from_reject_code = 450;
    int unv_from_defer_code = 450;
    int unv_rcpt_reject_code = 450;
    int unv_rcpt_defer_code = 450;
    int unv_from_tf_defer_if_permit = 1;
    int unv_rcpt_tf_defer_if_permit = 1;
    std::string unv_from_reason;
    std::string unv_rcpt_reason;
    int verify_poll_count = 3;
    int verify_poll_delay = 3;
    std::string verify_service = "verify";
    long long message_size_limit = 10240000;
    std::string null_key = "<>";
    std::string double_bounce_sender = "double-bounce";
    std::string recipient_delimiter;
    std::string myorigin;
    std::string stress;
    std::string local_rcpt_maps_text;
    std::string virtual_mailbox_maps_text;
    std::string relay_rcpt_maps_text;
    std::string policy_default_action = "451 4.3.5 Server configuration problem";
    std::string policy_context;
    int policy_timeout = 100;
    int policy_try_limit = 2;
    int policy_retry_delay = 1;
    int policy_max_idle = 300;       // smtpd_check_policy.cpp: connection reuse
    int policy_max_ttl = 1000;
    int policy_request_limit = 0;
    std::vector<std::string> acl_permit_log;   // smtpd_log_access_permit_actions
    bool access_parent_style = true;           // smtpd_access_maps in parent_domain_matches_subdomains
    std::string maps_rbl_domains;
    std::string rbl_reply_maps_text;
    std::string default_rbl_reply;
    int maps_rbl_code = 554;
    std::string queue_directory;
};

class SmtpdCheck::Impl {
public:
    Impl(const config::Config& config, CheckServices services);

    // Session and transaction state (the reference's SMTPD_STATE parts).
    int recursion = 0;
    int warn_if_reject = 0;
    Deferral defer_if_permit;
    Deferral defer_if_reject;
    bool defer_if_permit_client = false;
    bool defer_if_permit_helo = false;
    bool defer_if_permit_sender = false;
    bool sender_rcptmap_checked = false;
    bool recipient_rcptmap_checked = false;
    bool discard = false;
    MessageActions actions;
    std::string error_text;                  // the last reply formatted

    CheckParams params;
    CheckServices services;
    Restrictions client_restrictions, helo_restrictions, mail_restrictions, relay_restrictions,
        rcpt_restrictions, etrn_restrictions, data_restrictions, eod_restrictions;
    std::map<std::string, Restrictions, std::less<>> classes;      // smtpd_restriction_classes
    std::map<std::string, std::shared_ptr<mail::Maps>, std::less<>> tables;  // "type:name" → tables
    std::unique_ptr<mail::NamadrList> mynetworks;
    std::unique_ptr<mail::DomainList> relay_domains;
    std::unique_ptr<mail::DomainList> mydestination;
    std::shared_ptr<mail::Maps> local_rcpt_maps, virtual_mailbox_maps, relay_rcpt_maps, rcpt_canonical_maps,
        sender_canonical_maps, canonical_maps, virtual_alias_maps, relay_ccerts, sender_login_maps, rbl_reply_maps;

    // smtpd_check_services.cpp: the real DNS, trivial-rewrite, sockets and
    // sleep for services the caller left empty.
    void install_default_services();

    // smtpd_check.cpp: stages.
    Status run_client(Eval& e);
    Status run_helo(Eval& e);
    Status run_mail(Eval& e);
    void reset_check();
    Eval make_eval(const CheckState& in, CheckResult& out, std::string_view where) const;
    CheckResult finish(Eval& e, Status status);

    // smtpd_check_generic.cpp: the restriction list interpreter.
    Status generic_checks(Eval& e, const Restrictions& list, std::string_view reply_name,
                          std::string_view reply_class, std::string_view def_acl);

    // smtpd_check_reply.cpp: replies, deferrals, logging.
    Status reject(Eval& e, std::string_view error_class, int code, std::string_view dsn, std::string_view text);
    Status defer_if(Deferral& d, std::string_view error_class, int code, std::string_view dsn, std::string text);
    Status defer_if_permit_or_reject(bool defer_if_permit_action, Eval& e, std::string_view error_class, int code,
                                     std::string_view dsn, std::string text);
    Status dict_retry(Eval& e, std::string_view reply_name);
    Status server_error(Eval& e);
    Status acl_permit(Eval& e, std::string_view action, std::string_view reply_class, std::string_view reply_name,
                      std::string_view extra);
    void log_whatsup(Eval& e, std::string_view whatsup, std::string_view text);

    // smtpd_check_access.cpp: access tables.
    Status table_result(Eval& e, std::string_view table, std::string_view value, std::string_view datum,
                        std::string_view reply_name, std::string_view reply_class, std::string_view def_acl);
    Status check_access(Eval& e, std::string_view table, std::string_view name, bool partial, bool& found,
                        std::string_view reply_name, std::string_view reply_class, std::string_view def_acl);
    Status check_domain_access(Eval& e, std::string_view table, std::string_view domain, bool partial, bool& found,
                               std::string_view reply_name, std::string_view reply_class,
                               std::string_view def_acl);
    Status check_addr_access(Eval& e, std::string_view table, std::string_view address, bool partial, bool& found,
                             std::string_view reply_name, std::string_view reply_class, std::string_view def_acl);
    Status check_namadr_access(Eval& e, std::string_view table, std::string_view name, std::string_view addr,
                               bool& found, std::string_view reply_name, std::string_view reply_class,
                               std::string_view def_acl);
    Status check_mail_access(Eval& e, std::string_view table, std::string_view addr, bool& found,
                             std::string_view reply_name, std::string_view reply_class, std::string_view def_acl);
    Status check_server_access(Eval& e, std::string_view table, std::string_view name, std::string_view type,
                               std::string_view reply_name, std::string_view reply_class,
                               std::string_view def_acl);

    // smtpd_check_hosts.cpp: host names, addresses and destinations.
    Status reject_unknown_client(Eval& e);
    Status reject_unknown_reverse_name(Eval& e);
    Status permit_mynetworks(Eval& e);
    Status reject_invalid_hostaddr(Eval& e, std::string_view addr, std::string_view reply_name,
                                   std::string_view reply_class);
    Status reject_invalid_hostname(Eval& e, std::string_view name, std::string_view reply_name,
                                   std::string_view reply_class);
    Status reject_non_fqdn_hostname(Eval& e, std::string_view name, std::string_view reply_name,
                                    std::string_view reply_class);
    Status reject_unknown_hostname(Eval& e, std::string_view name, std::string_view reply_name,
                                   std::string_view reply_class);
    Status reject_unknown_mailhost(Eval& e, std::string_view name, std::string_view reply_name,
                                   std::string_view reply_class);
    Status reject_non_fqdn_address(Eval& e, std::string_view addr, std::string_view reply_name,
                                   std::string_view reply_class);
    Status reject_unknown_address(Eval& e, std::string_view addr, std::string_view reply_name,
                                  std::string_view reply_class);
    Status permit_auth_destination(Eval& e, std::string_view recipient);
    Status reject_unauth_destination(Eval& e, std::string_view recipient, int code, std::string_view dsn);
    Status check_relay_domains(Eval& e, std::string_view recipient);
    Status permit_tls_clientcerts(Eval& e, bool all_certs);

    // smtpd_check_rcpt_maps.cpp: reject_unlisted_{sender,recipient}.
    Status check_recipient_rcpt_maps(Eval& e, std::string_view recipient);
    Status check_sender_rcpt_maps(Eval& e, std::string_view sender);
    Status check_rcpt_maps(Eval& e, std::string_view sender, std::string_view recipient,
                           std::string_view reply_class);

    // smtpd_check_verify.cpp: reject_unverified_{sender,recipient}.
    Status reject_unverified_address(Eval& e, std::string_view addr, std::string_view reply_name,
                                     std::string_view reply_class, int defer_code, int reject_code,
                                     bool tf_defer_if_permit, std::string_view alt_reason);

    // smtpd_check_policy.cpp: check_policy_service.
    Status check_policy_service(Eval& e, std::string_view server, std::string_view reply_name,
                                std::string_view reply_class, std::string_view def_acl);
    void close_policy_connections();
    int policy_nesting = 0;
    std::map<std::string, int, std::less<>> policy_fds;   // open connections, by endpoint

    // smtpd_check_rbl.cpp: DNS black/white lists.
    Status reject_rbl_addr(Eval& e, std::string_view rbl_domain, std::string_view addr,
                           std::string_view reply_class);
    Status reject_rbl_domain(Eval& e, std::string_view rbl_domain, std::string_view what,
                             std::string_view reply_class);
    Status permit_dnswl_addr(Eval& e, std::string_view dnswl_domain, std::string_view addr,
                             std::string_view reply_class);
    Status permit_dnswl_domain(Eval& e, std::string_view dnswl_domain, std::string_view what,
                               std::string_view reply_class);

    // smtpd_check_sasl.cpp: sender login checks.
    Status reject_auth_sender_login_mismatch(Eval& e, std::string_view sender, bool allow_unknown);
    Status reject_unauth_sender_login_mismatch(Eval& e, std::string_view sender);

    // Whether the client address is one of this host's inet_interfaces
    // addresses (permit_inet_interfaces).
    bool own_inet_address(std::string_view addr);
    std::vector<std::string> own_addresses;   // filled on first use
    bool own_addresses_known = false;
    std::string inet_interfaces;
    std::string inet_protocols;   // the address families of host lookups

    // DNS list answers by query name, kept for the life of the process
    // (at most 100, least recently used first out) as the reference keeps
    // them: a failed lookup is reported once (smtpd_check_rbl.cpp).
    struct RblCacheEntry {
        int kind = 0;                      // 0 not listed, 1 lookup error, 2 listed
        std::vector<std::string> addrs;    // the A records when listed
        std::string txt;                   // the TXT records, " / " between them
    };
    std::list<std::pair<std::string, RblCacheEntry>> rbl_cache;
    Restrictions local_rewrite_clients;

    // The resolver answer for an address (trivial-rewrite), nullopt on failure.
    std::optional<CheckServices::Resolved> resolve(std::string_view sender, std::string_view address);
    // Tables named in restriction lists (nullptr when never registered).
    const mail::Maps* table(std::string_view name) const;
};

// Helpers shared by the files.
// The reference's dup_if_truncate(): "name." → "name" (not "name..").
std::string_view strip_one_trailing_dot(std::string_view name);
// The reference's smtpd_dsn_fix(): an address-status code (X.1.Y) becomes
// its sender or recipient form, or X.0.0 elsewhere; a change is logged
// (a line appended to log).
std::string smtpd_dsn_fix(std::string_view status, std::string_view reply_class, std::vector<std::string>& log);
// Splits a restriction list value.
Restrictions parse_restrictions(std::string_view text);
// The getaddrinfo family inet_protocols allows: AF_INET, AF_INET6 or
// AF_UNSPEC (both; smtpd_check_services.cpp).
int inet_protocols_family(std::string_view inet_protocols);

}  // namespace pf::smtpd
