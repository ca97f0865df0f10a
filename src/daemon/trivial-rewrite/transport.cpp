// transport_maps as the reference's trivial-rewrite consults it: the full
// address, the address without extension, the domain and its parents
// (".parent" form unless transport_maps is in
// parent_domain_matches_subdomains), then the "*" wildcard; a result
// "transport:nexthop" where an empty transport keeps the current one, and
// an empty nexthop resets it to the recipient domain (or to "Address is
// undeliverable" for the error and retry transports).
#include "trivial_rewrite.h"

#include "util/msg.h"

#include <chrono>

namespace pf::rewrite {

namespace {

void update_entry(std::string_view new_transport, std::string_view new_nexthop, std::string_view rcpt_domain,
                  std::string& transport, std::string& nexthop) {
    if (new_transport.empty()) {
        if (!new_nexthop.empty()) nexthop = new_nexthop;
        return;
    }
    transport = new_transport;
    if (!new_nexthop.empty()) nexthop = new_nexthop;
    else if (transport != "error" && transport != "retry") nexthop = rcpt_domain;
    else nexthop = "Address is undeliverable";
}

void parse_entry(std::string_view value, std::string_view rcpt_domain, std::string& transport, std::string& nexthop) {
    auto colon = value.find(':');
    if (colon == std::string_view::npos) update_entry(value, "", rcpt_domain, transport, nexthop);
    else update_entry(value.substr(0, colon), value.substr(colon + 1), rcpt_domain, transport, nexthop);
}

long long now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

TransportMaps::TransportMaps(std::string title, std::string_view tables, bool parent_style)
    : maps_(std::move(title), tables, dict::kNoRegSub | dict::kUtf8Request), parent_style_(parent_style) {}

TransportMaps::TransportMaps(std::string title, const TransportMaps& same_tables, bool parent_style)
    : maps_(std::move(title), same_tables.maps_), parent_style_(parent_style) {}

void TransportMaps::init_wildcard() {
    wildcard_initialised_ = true;
    wildcard_.reset();
    wildcard_error_ = false;
    auto w = maps_.search("*", false);
    if (w.is_found()) {
        // The wildcard is parsed without a domain, then applied.
        std::string wt, wn;
        parse_entry(w.value(), "", wt, wn);
        wildcard_.emplace(std::move(wt), std::move(wn));
    } else if (w.is_error()) {
        wildcard_error_ = true;
    }
    wildcard_expire_ = now_seconds() + 30;
}

TransportMaps::Outcome TransportMaps::lookup(std::string_view address, std::string_view rcpt_domain,
                                             std::string& transport, std::string& nexthop,
                                             std::string_view recipient_delimiter) {
    if (address.empty()) {
        msg_warn("transport_lookup: null address - skipping table lookup");
        return Outcome::not_found;
    }
    unsigned strategy = mail::kFindFull | mail::kFindNoExt | mail::kFindDomain |
                        (parent_style_ ? mail::kFindParentDomain : mail::kFindDotParentDomain);
    mail::AddressMaps::AddressContext ctx{recipient_delimiter, {}, {}};
    auto r = maps_.find_address(address, strategy, ctx);
    if (r.is_found()) {
        parse_entry(r.value(), rcpt_domain, transport, nexthop);
        return Outcome::found;
    }
    if (r.is_error()) return Outcome::error;
    if (!wildcard_initialised_ || wildcard_error_ || now_seconds() > wildcard_expire_) init_wildcard();
    if (wildcard_error_) return Outcome::error;
    if (wildcard_) {
        update_entry(wildcard_->first, wildcard_->second, rcpt_domain, transport, nexthop);
        return Outcome::found;
    }
    return Outcome::not_found;
}

}  // namespace pf::rewrite
