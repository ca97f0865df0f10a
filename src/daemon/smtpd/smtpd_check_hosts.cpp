// Restrictions about host names, addresses and destinations, worded as the
// reference's smtpd words them: reject_unknown_client_hostname and
// reject_unknown_reverse_client_hostname (from the name status the protocol
// engine found), permit_mynetworks, reject_invalid_helo_hostname,
// reject_non_fqdn_{helo_hostname,sender,recipient},
// reject_unknown_{helo_hostname,sender_domain,recipient_domain} (DNS A/AAAA/MX
// lookups through CheckServices::dns), permit_auth_destination,
// reject_unauth_destination / defer_unauth_destination (trivial-rewrite's
// address class), check_relay_domains and permit_tls_clientcerts.
//
// Trust: names and addresses come from the network; DNS answers too.
#include "daemon/smtpd/smtpd_check_impl.h"

#include "config/mail_params.h"
#include "ipc/services.h"
#include "mail/address_hostaddr.h"
#include "mail/address_idna.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <fmt/core.h>

namespace pf::smtpd {

namespace {

using DnsStatus = CheckServices::DnsAnswer::Status;
constexpr unsigned kClassFinal = ipc::kResolveClassLocal | ipc::kResolveClassAlias | ipc::kResolveClassVirtual;

}  // namespace

std::string_view strip_one_trailing_dot(std::string_view name) {
    if (name.size() > 1 && name.back() == '.' && name[name.size() - 2] != '.') name.remove_suffix(1);
    return name;
}

Status SmtpdCheck::Impl::reject_unknown_reverse_name(Eval& e) {
    if (e.in.reverse_name_status == NameStatus::ok) return Status::dunno;
    return reject(e, error_class::kPolicy,
                  e.in.reverse_name_status == NameStatus::perm ? params.unknown_client_code : 450, "4.7.1",
                  fmt::format("Client host rejected: cannot find your reverse hostname, [{}]", e.in.client_addr));
}

Status SmtpdCheck::Impl::reject_unknown_client(Eval& e) {
    if (e.in.name_status == NameStatus::ok) return Status::dunno;
    return reject(e, error_class::kPolicy,
                  static_cast<int>(e.in.name_status) >= static_cast<int>(NameStatus::perm) ? params.unknown_client_code
                                                                                          : 450,
                  "4.7.25", fmt::format("Client host rejected: cannot find your hostname, [{}]", e.in.client_addr));
}

Status SmtpdCheck::Impl::permit_mynetworks(Eval& e) {
    switch (mynetworks->match(e.in.client_name, e.in.client_addr)) {
    case mail::NamadrList::Result::yes:
        return Status::ok;
    case mail::NamadrList::Result::no:
        return Status::dunno;
    case mail::NamadrList::Result::error:
        break;
    }
    return dict_retry(e, e.namaddr);
}

Status SmtpdCheck::Impl::reject_invalid_hostaddr(Eval& e, std::string_view addr, std::string_view reply_name,
                                                 std::string_view cls) {
    std::string_view test = addr;
    if (test.size() > 2 && test.front() == '[' && test.back() == ']') test = test.substr(1, test.size() - 2);
    if (!mail::valid_mailhost_addr(test, false))
        return reject(e, error_class::kPolicy, params.bad_name_code, "5.5.2",
                      fmt::format("<{}>: {} rejected: invalid ip address", reply_name, cls));
    return Status::dunno;
}

Status SmtpdCheck::Impl::reject_invalid_hostname(Eval& e, std::string_view name, std::string_view reply_name,
                                                 std::string_view cls) {
    std::string_view test = strip_one_trailing_dot(name);
    if (!config::valid_hostname(test, false) && !mail::valid_hostaddr(test, false))
        return reject(e, error_class::kPolicy, params.bad_name_code, "5.5.2",
                      fmt::format("<{}>: {} rejected: Invalid name", reply_name, cls));
    return Status::dunno;
}

Status SmtpdCheck::Impl::reject_non_fqdn_hostname(Eval& e, std::string_view name, std::string_view reply_name,
                                                  std::string_view cls) {
    std::string_view test = strip_one_trailing_dot(name);
    if (!mail::valid_utf8_hostname(e.in.smtputf8, test, false) || test.find('.') == std::string_view::npos)
        return reject(e, error_class::kPolicy, params.non_fqdn_code, "5.5.2",
                      fmt::format("<{}>: {} rejected: need fully-qualified hostname", reply_name, cls));
    return Status::dunno;
}

Status SmtpdCheck::Impl::reject_unknown_hostname(Eval& e, std::string_view name, std::string_view reply_name,
                                                 std::string_view cls) {
    bool retry = false;
    for (std::string_view type : {"A", "AAAA", "MX"}) {
        auto a = services.dns(name, type);
        if (a.status == DnsStatus::ok) return Status::dunno;
        if (a.status == DnsStatus::temp_fail) retry = true;
    }
    if (!retry)
        return reject(e, error_class::kPolicy, params.unknown_name_code, "4.7.1",
                      fmt::format("<{}>: {} rejected: Host not found", reply_name, cls));
    return defer_if_permit_or_reject(params.unknown_name_tf_defer_if_permit != 0, e, error_class::kPolicy, 450,
                                     "4.7.1", fmt::format("<{}>: {} rejected: Host not found", reply_name, cls));
}

Status SmtpdCheck::Impl::reject_unknown_mailhost(Eval& e, std::string_view name, std::string_view reply_name,
                                                 std::string_view cls) {
    std::string lookup(name);
    if (!util::all_ascii(name))
        if (auto a = mail::idna_domain_to_ascii(name)) lookup = *a;
    bool sender = cls == reply_class::kSender;
    bool retry = false;
    bool ok = false;
    for (std::string_view type : {"MX", "A", "AAAA"}) {
        auto a = services.dns(lookup, type);
        if (a.status == DnsStatus::ok) {
            if (type == "MX" && a.values.size() == 1 && (a.values[0].empty() || a.values[0] == "."))
                return reject(e, error_class::kPolicy, sender ? 550 : 556, sender ? "4.7.27" : "4.1.10",
                              fmt::format("<{}>: {} rejected: Domain {} does not accept mail (nullMX)", reply_name,
                                          cls, lookup));
            ok = true;
            break;
        }
        if (a.status == DnsStatus::temp_fail) retry = true;
    }
    if (ok) return Status::dunno;
    if (!retry)
        return reject(e, error_class::kPolicy, params.unknown_addr_code, sender ? "4.1.8" : "4.1.2",
                      fmt::format("<{}>: {} rejected: Domain not found", reply_name, cls));
    return defer_if_permit_or_reject(params.unknown_addr_tf_defer_if_permit != 0, e, error_class::kPolicy, 450,
                                     sender ? "4.1.8" : "4.1.2",
                                     fmt::format("<{}>: {} rejected: Domain not found", reply_name, cls));
}

Status SmtpdCheck::Impl::reject_non_fqdn_address(Eval& e, std::string_view addr, std::string_view reply_name,
                                                 std::string_view cls) {
    std::string_view domain;
    if (auto at = addr.rfind('@'); at != std::string_view::npos) domain = addr.substr(at + 1);
    if (!domain.empty() && domain.front() == '[' && domain.back() == ']') return Status::dunno;
    std::string_view test = strip_one_trailing_dot(domain);
    if (test.empty() || !mail::valid_utf8_hostname(e.in.smtputf8, test, false) ||
        test.find('.') == std::string_view::npos)
        return reject(e, error_class::kPolicy, params.non_fqdn_code, "4.5.2",
                      fmt::format("<{}>: {} rejected: need fully-qualified address", reply_name, cls));
    return Status::dunno;
}

Status SmtpdCheck::Impl::reject_unknown_address(Eval& e, std::string_view addr, std::string_view reply_name,
                                                std::string_view cls) {
    auto reply = resolve(cls == reply_class::kSender ? e.recipient.value_or("") : e.sender.value_or(""), addr);
    if (!reply) return dict_retry(e, addr);
    auto at = reply->recipient.rfind('@');
    if (at == std::string::npos) return Status::dunno;
    std::string_view domain = std::string_view(reply->recipient).substr(at + 1);
    if (reply->flags & kClassFinal) return Status::dunno;
    if (!domain.empty() && domain.front() == '[' && domain.back() == ']') return Status::dunno;
    return reject_unknown_mailhost(e, domain, reply_name, cls);
}

Status SmtpdCheck::Impl::permit_auth_destination(Eval& e, std::string_view recipient) {
    auto reply = resolve(e.sender.value_or(""), recipient);
    if (!reply) return dict_retry(e, recipient);
    if (reply->recipient.rfind('@') == std::string::npos) return Status::ok;
    if (!params.allow_untrusted_routing && (reply->flags & ipc::kResolveRouted)) return Status::dunno;
    if (reply->flags & kClassFinal) return Status::ok;
    if (reply->flags & ipc::kResolveClassRelay) return Status::ok;
    return Status::dunno;
}

Status SmtpdCheck::Impl::reject_unauth_destination(Eval& e, std::string_view recipient, int code,
                                                   std::string_view dsn) {
    Status s = permit_auth_destination(e, recipient);
    if (s == Status::ok) return Status::dunno;
    if (s != Status::dunno) return s;
    return reject(e, error_class::kPolicy, code, dsn, fmt::format("<{}>: Relay access denied", recipient));
}

Status SmtpdCheck::Impl::check_relay_domains(Eval& e, std::string_view recipient) {
    static bool once = false;
    if (!once) {
        once = true;
        util::msg_warn("support for restriction \"check_relay_domains\" will be removed from Postfix; use "
                       "\"reject_unauth_destination\" instead");
    }
    if (relay_domains && relay_domains->match(e.in.client_name) == mail::DomainMatch::yes) return Status::ok;
    Status s = permit_auth_destination(e, recipient);
    if (s == Status::ok) return Status::ok;
    if (s != Status::dunno) return s;
    return reject(e, error_class::kPolicy, params.relay_code, "5.7.1",
                  fmt::format("<{}>: {} rejected: Relay access denied", recipient, reply_class::kRecipient));
}

Status SmtpdCheck::Impl::permit_tls_clientcerts(Eval& e, bool all_certs) {
    if (e.in.tls_protocol.empty()) return Status::dunno;
    if (e.in.ccert_verified && all_certs) return Status::ok;
    if (!e.in.ccert_fingerprint.empty() || !e.in.ccert_pubkey_fingerprint.empty()) {
        if (!relay_ccerts) return Status::dunno;
        for (const std::string* print : {&e.in.ccert_fingerprint, &e.in.ccert_pubkey_fingerprint}) {
            auto r = relay_ccerts->find(*print, false);
            if (r.is_found()) return Status::ok;
            if (r.is_error()) {
                util::msg_warn("relay_clientcerts: lookup error for fingerprint '{}', pkey fingerprint {}",
                               e.in.ccert_fingerprint, e.in.ccert_pubkey_fingerprint);
                return dict_retry(e, e.namaddr);
            }
        }
    } else if (!params.tls_ask_ccert) {
        util::msg_warn("{} is requested, but \"smtpd_tls_ask_ccert = no\"",
                       all_certs ? "permit_tls_all_clientcerts" : "permit_tls_clientcerts");
    }
    return Status::dunno;
}

}  // namespace pf::smtpd
