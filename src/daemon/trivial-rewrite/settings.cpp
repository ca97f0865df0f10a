// trivial-rewrite's parameters, read from main.cf once at start-up (the
// reference's names and defaults come from the parameter catalogue).
#include "trivial_rewrite.h"

#include "config/mail_params.h"
#include "mail/address_idna.h"

#include <fmt/core.h>

#include <stdexcept>

namespace pf::rewrite {


namespace {

// A boolean parameter; a value other than yes/no is fatal, as in the
// reference ("bad boolean configuration: name = value").
bool get_bool(const config::Config& c, std::string_view name) {
    std::string value = c.get(name);
    auto v = config::parse_bool_value(value);
    if (!v) throw std::runtime_error(fmt::format("bad boolean configuration: {} = {}", name, value));
    return *v;
}

// A string parameter that must not be empty (the reference's minimum
// length 1 for the transports, empty_address_recipient and the null-sender
// lookup keys).
std::string get_nonempty(const config::Config& c, std::string_view name) {
    std::string value = c.get(name);
    if (value.empty()) throw std::runtime_error(fmt::format("bad string length 0 < 1: {} = {}", name, value));
    return value;
}

// The reference's parameter checks, in its order, before anything is used.
void check_lengths(const config::Config& c) {
    for (std::string_view name :
         {"local_transport", "virtual_transport", "relay_transport", "default_transport", "empty_address_recipient",
          "address_verify_local_transport", "address_verify_virtual_transport", "address_verify_relay_transport",
          "address_verify_default_transport", "empty_address_relayhost_maps_lookup_key",
          "empty_address_default_transport_maps_lookup_key"})
        get_nonempty(c, name);
}

// verify is false for the regular routing, true for the address_verify_*
// one; regular (when given) lends its open tables to a verify setting with
// the same value, as the reference opens a table once per name.
void read_route(const config::Config& c, RouteSettings& r, bool verify, bool transport_parent,
                const RouteSettings* regular) {
    auto name = [&](std::string_view regular_name, std::string_view vrfy) {
        return std::string(verify ? vrfy : regular_name);
    };
    r.local_transport_name = name("local_transport", "address_verify_local_transport");
    r.virtual_transport_name = name("virtual_transport", "address_verify_virtual_transport");
    r.relay_transport_name = name("relay_transport", "address_verify_relay_transport");
    r.default_transport_name = name("default_transport", "address_verify_default_transport");
    r.local_transport = c.get(r.local_transport_name);
    r.virtual_transport = c.get(r.virtual_transport_name);
    r.relay_transport = c.get(r.relay_transport_name);
    r.default_transport = c.get(r.default_transport_name);
    r.relayhost = c.get(name("relayhost", "address_verify_relayhost"));
    std::string maps = name("transport_maps", "address_verify_transport_maps");
    if (auto v = c.get(maps); !v.empty()) {
        if (regular && regular->transport_maps && v == c.get("transport_maps"))
            r.transport_maps = std::make_shared<TransportMaps>(maps, *regular->transport_maps, transport_parent);
        else
            r.transport_maps = std::make_shared<TransportMaps>(maps, v, transport_parent);
    }
    std::string relay = name("sender_dependent_relayhost_maps", "address_verify_sender_dependent_relayhost_maps");
    if (auto v = c.get(relay); !v.empty()) {
        if (regular && regular->sender_relay && v == c.get("sender_dependent_relayhost_maps"))
            r.sender_relay = std::make_shared<mail::AddressMaps>(relay, *regular->sender_relay);
        else
            r.sender_relay = std::make_shared<mail::AddressMaps>(relay, v, dict::kNoRegSub | dict::kUtf8Request);
    }
    std::string xport =
        name("sender_dependent_default_transport_maps", "address_verify_sender_dependent_default_transport_maps");
    if (auto v = c.get(xport); !v.empty()) {
        if (regular && regular->sender_transport && v == c.get("sender_dependent_default_transport_maps"))
            r.sender_transport = std::make_shared<mail::AddressMaps>(xport, *regular->sender_transport);
        else
            r.sender_transport = std::make_shared<mail::AddressMaps>(xport, v, dict::kNoRegSub | dict::kUtf8Request);
    }
}

}  // namespace

std::unique_ptr<Settings> Settings::from_config(const config::Config& c) {
    check_lengths(c);
    auto s = std::make_unique<Settings>();
    auto& rw = s->rewrite;
    rw.swap_bangpath = get_bool(c, "swap_bangpath");
    rw.percent_hack = get_bool(c, "allow_percent_hack");
    rw.append_at_myorigin = get_bool(c, "append_at_myorigin");
    rw.append_dot_mydomain = get_bool(c, "append_dot_mydomain");
    rw.local = {c.get("myorigin"), c.get("mydomain")};
    std::string remote = c.get("remote_header_rewrite_domain");
    rw.remote = {remote, remote};

    mail::idna_set_transitional(get_bool(c, "enable_idna2003_compatibility"));

    auto& r = s->resolve;
    r.myhostname = c.get("myhostname");
    r.myorigin = c.get("myorigin");
    r.empty_address_recipient = c.get("empty_address_recipient");
    r.config_directory = c.config_directory();
    r.recipient_delimiter = c.get("recipient_delimiter");
    r.null_relay_key = c.get("empty_address_relayhost_maps_lookup_key");
    r.null_transport_key = c.get("empty_address_default_transport_maps_lookup_key");
    r.resolve_null_domain = get_bool(c, "resolve_null_domain");
    r.resolve_dequoted = get_bool(c, "resolve_dequoted_address");
    r.resolve_numeric_domain = get_bool(c, "resolve_numeric_domain");
    r.show_unknown_table = get_bool(c, "show_user_unknown_table_name");
    r.helpful_warnings = get_bool(c, "helpful_warnings");
    r.allow_min_user = get_bool(c, "allow_min_user");
    r.smtputf8 = get_bool(c, "smtputf8_enable");
    std::string parents = c.get("parent_domain_matches_subdomains");
    r.local = std::make_unique<LocalDomains>(
        c.get("mydestination"),
        LocalDomains::interface_addresses(c.get("inet_interfaces"), c.get("proxy_interfaces"), c.get("inet_protocols")),
        LocalDomains::address_family(c.get("inet_protocols")));
    if (auto v = c.get("virtual_alias_domains"); !v.empty())
        r.virtual_alias_domains = std::make_unique<mail::DomainList>("virtual_alias_domains", v,
                                                                     mail::DomainList::Style::exact, false);
    if (auto v = c.get("virtual_mailbox_domains"); !v.empty())
        r.virtual_mailbox_domains = std::make_unique<mail::DomainList>("virtual_mailbox_domains", v,
                                                                       mail::DomainList::Style::exact, false);
    if (auto v = c.get("relay_domains"); !v.empty())
        r.relay_domains = std::make_unique<mail::DomainList>("relay_domains", v, mail::DomainList::Style::hostname,
                                                             mail::parent_domain_style(parents, "relay_domains"));
    if (auto v = c.get("relocated_maps"); !v.empty())
        r.relocated = std::make_unique<mail::AddressMaps>("relocated_maps", v, dict::kUtf8Request);
    bool transport_parent = mail::parent_domain_style(parents, "transport_maps");
    read_route(c, r.regular, false, transport_parent, nullptr);
    read_route(c, r.verify, true, transport_parent, &r.regular);
    return s;
}

}  // namespace pf::rewrite
