// trivial-rewrite's logic, apart from its socket loop: the "rewrite"
// request (canonical user@domain form, rewrite.cpp), the "resolve" and
// "verify" requests (address class, transport, nexthop and recipient,
// resolve.cpp, with transport_maps in transport.cpp and the local-domain
// test in local_domain.cpp). Settings are read once from main.cf at
// start-up (Settings::from_config); tests build them directly.
//
// Privileges: none kept; the tables are opened before the chroot.
// Trust: addresses come from any local or network client through our own
// daemons; they are parsed as hostile text.
#pragma once

#include "config/config.h"
#include "mail/address_domain_list.h"
#include "mail/address_maps.h"
#include "mail/address_token.h"
#include "util/msg.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::rewrite {

// The names every trivial-rewrite file uses unqualified.
using util::msg_info;
using util::msg_panic;
using util::msg_warn;
using mail::AddressToken;
using mail::TokenKind;
using mail::TokenList;

// The rewrite contexts: "local" uses myorigin/mydomain, "remote" uses
// remote_header_rewrite_domain for both.
struct RewriteContext {
    std::string origin;
    std::string domain;
};

struct RewriteSettings {
    bool swap_bangpath = true;
    bool percent_hack = true;
    bool append_at_myorigin = true;
    bool append_dot_mydomain = false;
    RewriteContext local;
    RewriteContext remote;
};

// Token-list helpers shared by rewrite and resolve.
inline bool is_op(const mail::AddressToken& t, char c) { return t.kind == mail::TokenKind::special && t.op == c; }
// Index of the last / first operator c, or npos.
inline std::size_t rfind_op(const mail::TokenList& l, char c) {
    for (std::size_t i = l.size(); i-- > 0;)
        if (is_op(l[i], c)) return i;
    return std::string::npos;
}
inline std::size_t find_op(const mail::TokenList& l, char c) {
    for (std::size_t i = 0; i < l.size(); ++i)
        if (is_op(l[i], c)) return i;
    return std::string::npos;
}

// Rewrites a token list (one address, scan_822 form) in place to the
// canonical form, the reference's rule set.
void rewrite_tokens(mail::TokenList& tokens, const RewriteContext& context, const RewriteSettings& settings);
// The "rewrite" request: external form in, external form out. rule is
// "local" or "remote"; nullopt for an unknown rule (warned).
std::optional<std::string> rewrite_address(std::string_view rule, std::string_view external,
                                           const RewriteSettings& settings);

// Whether a domain is this machine: mydestination, or [address] of
// inet_interfaces / proxy_interfaces.
class LocalDomains {
public:
    // family: the address family literals are read in (AF_INET with
    // inet_protocols = ipv4, so "IPv6:::ffff:1.2.3.4" reads as 1.2.3.4, as
    // getaddrinfo() does it for the reference); AF_UNSPEC for both.
    LocalDomains(std::string_view mydestination, std::vector<std::string> own_addresses, int family = 0);
    // 1: local, 0: not, -1: lookup error.
    int is_local(std::string_view domain) const;
    const mail::DomainList& list() const { return mydestination_; }

    // The machine's addresses for inet_interfaces / proxy_interfaces values
    // ("all": every interface; "loopback-only"; a list of names/addresses).
    // AF_INET, AF_INET6 or AF_UNSPEC for an inet_protocols value.
    static int address_family(std::string_view inet_protocols);
    static std::vector<std::string> interface_addresses(std::string_view inet_interfaces,
                                                        std::string_view proxy_interfaces,
                                                        std::string_view inet_protocols);

private:
    mail::DomainList mydestination_;
    std::vector<std::string> addresses_;  // canonical text form from inet_ntop
    int family_;
};

// transport_maps with the wildcard "*" entry. The wildcard entry is looked
// up at start-up (init_wildcard(), after the chroot) and again when that
// lookup failed or is older than 30 seconds, as the reference does.
class TransportMaps {
public:
    TransportMaps(std::string title, std::string_view tables, bool parent_style);
    // Another title over tables already open.
    TransportMaps(std::string title, const TransportMaps& same_tables, bool parent_style);
    // found: updates transport/nexthop; not found; or error (retry).
    enum class Outcome { found, not_found, error };
    Outcome lookup(std::string_view address, std::string_view rcpt_domain, std::string& transport,
                   std::string& nexthop, std::string_view recipient_delimiter);
    void init_wildcard();

private:
    mail::AddressMaps maps_;
    bool parent_style_;
    // The cached "*" entry: present or not, or the lookup failed.
    bool wildcard_initialised_ = false;
    bool wildcard_error_ = false;
    std::optional<std::pair<std::string, std::string>> wildcard_;
    long long wildcard_expire_ = 0;  // steady-clock seconds
};

// One set of routing parameters: the regular one or the address_verify_* one.
struct RouteSettings {
    std::string local_transport, local_transport_name;
    std::string virtual_transport, virtual_transport_name;
    std::string relay_transport, relay_transport_name;
    std::string default_transport, default_transport_name;
    std::string relayhost;
    // Shared between the regular and the verify settings when both name
    // the same tables (opened once, as the reference does).
    std::shared_ptr<mail::AddressMaps> sender_relay;      // sender_dependent_relayhost_maps
    std::shared_ptr<mail::AddressMaps> sender_transport;  // sender_dependent_default_transport_maps
    std::shared_ptr<TransportMaps> transport_maps;
};

struct ResolveSettings {
    std::string myhostname;
    std::string myorigin;
    std::string empty_address_recipient = "MAILER-DAEMON";
    std::string config_directory = "/etc/postfix";
    std::string recipient_delimiter;
    std::string null_relay_key = "<>";
    std::string null_transport_key = "<>";
    bool resolve_null_domain = false;
    bool resolve_dequoted = true;
    bool resolve_numeric_domain = false;
    bool show_unknown_table = true;
    bool helpful_warnings = true;
    bool allow_min_user = false;
    bool smtputf8 = false;
    std::unique_ptr<LocalDomains> local;
    std::unique_ptr<mail::DomainList> virtual_alias_domains;
    std::unique_ptr<mail::DomainList> virtual_mailbox_domains;
    std::unique_ptr<mail::DomainList> relay_domains;
    std::unique_ptr<mail::AddressMaps> relocated;
    RouteSettings regular;
    RouteSettings verify;
};

struct ResolveResult {
    unsigned flags = 0;  // ipc::ResolveFlags
    std::string transport;
    std::string nexthop;
    std::string recipient;
};

// The "resolve" (verify = false) and "verify" requests; address and sender
// in internal form.
ResolveResult resolve_address(std::string_view sender, std::string_view address, bool verify,
                              const ResolveSettings& settings, const RewriteSettings& rewrite);

// Reads everything from main.cf (throws std::runtime_error on a bad table).
struct Settings {
    RewriteSettings rewrite;
    ResolveSettings resolve;
    static std::unique_ptr<Settings> from_config(const config::Config& config);
};

}  // namespace pf::rewrite
