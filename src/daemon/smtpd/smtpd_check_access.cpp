// Access tables in smtpd restrictions (check_*_access and their _mx_/_ns_/
// _a_ forms), reproducing the reference's access(5) semantics: what each
// table answer does (OK, RELAY, all-digits, REJECT/DEFER [dsn] [text],
// NNN [dsn] text, DEFER_IF_PERMIT, DEFER_IF_REJECT, HOLD, DISCARD, FILTER,
// REDIRECT, BCC, PREPEND, WARN, INFO, HANGUP, DUNNO, restriction and
// class names), and in which order keys are tried: host names from the
// full name to the parent domains, addresses from the full address to
// the shorter prefixes, mail addresses as user+ext@domain, user@domain,
// domain and its parents, user+ext@, user@. A table error becomes
// "451 4.3.5 Server configuration error".
//
// Trust: keys come from the network; table answers from admin files (but
// checked: an answer naming a table is a configuration error).
#include "daemon/smtpd/smtpd_check_impl.h"

#include "config/mail_params.h"
#include "ipc/deliver_dsn.h"
#include "ipc/services.h"
#include "mail/address_hostaddr.h"
#include "mail/address_quote.h"
#include "mail/header_action.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::smtpd {

namespace {

constexpr std::string_view kConfigError = "451 4.3.5 Server configuration error";

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

}  // namespace

const mail::Maps* SmtpdCheck::Impl::table(std::string_view name) const {
    auto it = tables.find(name);
    return it == tables.end() ? nullptr : it->second.get();
}

// Whether an action that changes the message may be used here (the
// reference's can_delegate_action / not_in_client_helo).
static bool not_in_client_helo(const Eval& e, std::string_view table, std::string_view action) {
    if (!e.sender) {
        util::msg_warn("access table {}: with smtpd_delay_reject=no, action {} is always skipped in Client host or "
                       "Helo command restrictions",
                       table, action);
        return false;
    }
    return true;
}

static bool can_delegate_action(const Eval& e, std::string_view table, std::string_view action) {
    if (e.where == "ETRN") {
        util::msg_warn("access table {}: action {} is unavailable in smtpd_etrn_restrictions", table, action);
        return false;
    }
    return not_in_client_helo(e, table, action);
}

Status SmtpdCheck::Impl::table_result(Eval& e, std::string_view table, std::string_view value,
                                      std::string_view datum, std::string_view reply_name,
                                      std::string_view reply_class, std::string_view def_acl) {
    std::size_t cmd_len = value.find_first_of(" \t");
    if (cmd_len == std::string_view::npos) cmd_len = value.size();
    std::string_view cmd = value.substr(0, cmd_len);
    std::string_view cmd_text = value.substr(cmd_len);
    while (!cmd_text.empty() && util::is_space(cmd_text.front())) cmd_text.remove_prefix(1);
    auto is = [&](std::string_view word) { return util::iequals(cmd, word); };

    if (is("DUNNO")) return Status::dunno;
    if (is("REJECT") || is("DEFER")) {
        bool rej = is("REJECT");
        auto dp = ipc::dsn_split(rej ? "5.7.1" : "4.7.1", cmd_text);
        std::string dsn = smtpd_dsn_fix(dp.status, reply_class, e.out.log);
        return reject(e, error_class::kPolicy, rej ? params.map_reject_code : params.map_defer_code, dsn,
                      fmt::format("<{}>: {} rejected: {}", reply_name, reply_class,
                                  dp.text.empty() ? std::string_view("Access denied") : dp.text));
    }
    if (is("HANGUP")) {
        log_whatsup(e, "hangup", cmd_text);
        e.out.hangup = true;
        return Status::hangup;
    }
    if (is("INFO") || is("WARN")) {
        log_whatsup(e, is("INFO") ? "info" : "warn", cmd_text);
        return Status::dunno;
    }
    if (is("FILTER")) {
        if (!can_delegate_action(e, table, "FILTER")) return Status::dunno;
        if (cmd_text.empty()) {
            util::msg_warn("access table {} entry \"{}\" has FILTER entry without value", table, datum);
        } else if (cmd_text.find(':') == std::string_view::npos) {
            util::msg_warn("access table {} entry \"{}\" requires transport:destination", table, datum);
        } else {
            log_whatsup(e, "filter", fmt::format("<{}>: {} triggers FILTER {}", reply_name, reply_class, cmd_text));
            actions.filter = std::string(cmd_text);
        }
        return Status::dunno;
    }
    if (is("HOLD")) {
        if (!can_delegate_action(e, table, "HOLD") || actions.hold) return Status::dunno;
        log_whatsup(e, "hold",
                    fmt::format("<{}>: {} {}", reply_name, reply_class,
                                cmd_text.empty() ? std::string_view("triggers HOLD action") : cmd_text));
        actions.hold = true;
        return Status::dunno;
    }
    if (is("DISCARD")) {
        if (!can_delegate_action(e, table, "DISCARD")) return Status::dunno;
        log_whatsup(e, "discard",
                    fmt::format("<{}>: {} {}", reply_name, reply_class,
                                cmd_text.empty() ? std::string_view("triggers DISCARD action") : cmd_text));
        actions.discard = true;
        discard = true;
        return acl_permit(e, cmd, reply_class, reply_name, fmt::format("from {}", table));
    }
    if (is("REDIRECT") || is("BCC")) {
        std::string_view what = is("REDIRECT") ? "REDIRECT" : "BCC";
        if (!can_delegate_action(e, table, what)) return Status::dunno;
        if (cmd_text.find('@') == std::string_view::npos) {
            util::msg_warn("access table {} entry \"{}\" requires user@domain target", table, datum);
            return Status::dunno;
        }
        log_whatsup(e, what == "BCC" ? "bcc" : "redirect",
                    fmt::format("<{}>: {} triggers {} {}", reply_name, reply_class, what, cmd_text));
        if (what == "BCC")
            actions.bcc.emplace_back(cmd_text);
        else
            actions.redirect = std::string(cmd_text);
        return Status::dunno;
    }
    if (is("defer_if_permit") || is("defer_if_reject")) {
        auto dp = ipc::dsn_split("4.7.1", cmd_text);
        std::string dsn = smtpd_dsn_fix(dp.status, reply_class, e.out.log);
        std::string text = fmt::format("<{}>: {} rejected: {}", reply_name, reply_class,
                                       dp.text.empty() ? std::string_view("Service unavailable") : dp.text);
        if (is("defer_if_permit"))
            return defer_if_permit_or_reject(true, e, error_class::kPolicy, params.map_defer_code, dsn,
                                             std::move(text));
        defer_if(defer_if_reject, error_class::kPolicy, params.map_defer_code, dsn, std::move(text));
        return Status::dunno;
    }
    if (is("PREPEND")) {
        if (!not_in_client_helo(e, table, "PREPEND")) return Status::dunno;
        if (e.where == "END-OF-MESSAGE") {
            util::msg_warn("access table {}: action PREPEND must be used before smtpd_end_of_data_restrictions",
                           table);
            return Status::dunno;
        }
        if (cmd_text.empty() || !mail::is_header_text(cmd_text)) {
            util::msg_warn("access table {} entry \"{}\" requires header: text", table, datum);
            return Status::dunno;
        }
        actions.prepend.emplace_back(cmd_text);
        return Status::dunno;
    }
    if (all_digits(value)) return acl_permit(e, cmd, reply_class, reply_name, fmt::format("from {}", table));
    if (cmd_len == 3 && !cmd_text.empty() && (value[0] == '4' || value[0] == '5') && value[1] >= '0' &&
        value[1] <= '9' && value[2] >= '0' && value[2] <= '9') {
        int code = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
        std::string def_dsn = std::string(1, value[0]) + ".7.1";
        auto dp = ipc::dsn_split(def_dsn, cmd_text);
        std::string dsn = smtpd_dsn_fix(dp.status, reply_class, e.out.log);
        return reject(e, error_class::kPolicy, code, dsn,
                      fmt::format("<{}>: {} rejected: {}", reply_name, reply_class, dp.text));
    }
    if (is("OK") || is("RELAY")) return acl_permit(e, cmd, reply_class, reply_name, fmt::format("from {}", table));

    if (value.find(':') != std::string_view::npos) {
        util::msg_warn("access table {} has entry with lookup table: {}", table, value);
        util::msg_warn("do not specify lookup tables inside SMTPD access maps");
        util::msg_warn("define a restriction class and specify its name instead.");
        return server_error(e);
    }
    if (recursion > 100) {
        util::msg_warn("access table {} entry {} causes unreasonable recursion", table, value);
        return server_error(e);
    }
    Restrictions list = parse_restrictions(value);
    if (list.empty()) {
        util::msg_warn("access table {} entry {} has empty value", table, value);
        return Status::ok;
    }
    return generic_checks(e, list, reply_name, reply_class, def_acl);
}

Status SmtpdCheck::Impl::check_access(Eval& e, std::string_view table_name, std::string_view name, bool partial,
                                      bool& found, std::string_view reply_name, std::string_view reply_class,
                                      std::string_view def_acl) {
    found = false;
    const mail::Maps* maps = table(table_name);
    if (!maps) {
        util::msg_warn("check_access: unexpected dictionary: {}", table_name);
        found = true;
        return table_result(e, table_name, kConfigError, name, reply_name, reply_class, def_acl);
    }
    auto r = maps->find(name, partial);
    if (r.is_found() || r.is_error()) {
        found = true;
        return table_result(e, table_name, r.is_found() ? std::string_view(r.value()) : kConfigError, name,
                            reply_name, reply_class, def_acl);
    }
    return Status::dunno;
}

Status SmtpdCheck::Impl::check_domain_access(Eval& e, std::string_view table_name, std::string_view domain,
                                             bool partial, bool& found, std::string_view reply_name,
                                             std::string_view reply_class, std::string_view def_acl) {
    found = false;
    const mail::Maps* maps = table(table_name);
    if (!maps) {
        util::msg_warn("check_domain_access: unexpected dictionary: {}", table_name);
        found = true;
        return table_result(e, table_name, kConfigError, domain, reply_name, reply_class, def_acl);
    }
    bool numerical = mail::valid_hostaddr(domain, false);
    std::string_view name = domain;
    while (!name.empty()) {
        auto r = maps->find(name, partial);
        if (r.is_found() || r.is_error()) {
            found = true;
            return table_result(e, table_name, r.is_found() ? std::string_view(r.value()) : kConfigError, domain,
                                reply_name, reply_class, def_acl);
        }
        if (numerical) break;
        auto dot = name.find('.', 1);
        if (dot == std::string_view::npos) break;
        name.remove_prefix(params.access_parent_style ? dot + 1 : dot);
        partial = true;
    }
    return Status::dunno;
}

Status SmtpdCheck::Impl::check_addr_access(Eval& e, std::string_view table_name, std::string_view address,
                                           bool partial, bool& found, std::string_view reply_name,
                                           std::string_view reply_class, std::string_view def_acl) {
    found = false;
    const mail::Maps* maps = table(table_name);
    if (!maps) {
        util::msg_warn("check_addr_access: unexpected dictionary: {}", table_name);
        found = true;
        return table_result(e, table_name, kConfigError, address, reply_name, reply_class, def_acl);
    }
    char delim = address.find(':') != std::string_view::npos ? ':' : '.';
    std::string_view addr = address;
    for (;;) {
        auto r = maps->find(addr, partial);
        if (r.is_found() || r.is_error()) {
            found = true;
            return table_result(e, table_name, r.is_found() ? std::string_view(r.value()) : kConfigError, address,
                                reply_name, reply_class, def_acl);
        }
        partial = true;
        auto cut = addr.rfind(delim);
        if (cut == std::string_view::npos) break;
        addr = addr.substr(0, cut);
    }
    return Status::dunno;
}

Status SmtpdCheck::Impl::check_namadr_access(Eval& e, std::string_view table_name, std::string_view name,
                                             std::string_view addr, bool& found, std::string_view reply_name,
                                             std::string_view reply_class, std::string_view def_acl) {
    Status s = check_domain_access(e, table_name, name, false, found, reply_name, reply_class, def_acl);
    if (s != Status::dunno || found) return s;
    s = check_addr_access(e, table_name, addr, false, found, reply_name, reply_class, def_acl);
    if (s != Status::dunno || found) return s;
    return Status::dunno;
}

// The access(5) search order for a mail address (the reference's
// mail_addr_find_strategy with FULL, NOEXT, DOMAIN, LOCALPART_AT and the
// parent-domain style of smtpd_access_maps). Keys are tried in external
// (quoted) form first, then in internal form when that differs.
static dict::LookupResult find_mail_address(const mail::Maps& maps, std::string_view address,
                                            std::string_view delimiters, bool parent_style) {
    auto lookup = [&](std::string_view key, bool partial) {
        std::string ext;
        auto at = key.rfind('@');
        if (at == std::string_view::npos)
            ext = mail::quote_822_local(key, mail::kQuoteDefault | mail::kQuoteBareLocalpart);
        else
            ext = mail::quote_822_local(key);
        auto r = maps.find(ext, partial);
        if (!r.is_not_found() || ext == key) return r;
        return maps.find(key, partial);
    };
    std::string full(address);
    auto at = full.rfind('@');
    std::string bare;
    if (!delimiters.empty()) {
        std::string_view local = std::string_view(full).substr(0, at == std::string::npos ? full.size() : at);
        auto d = local.find_first_of(delimiters);
        if (d != std::string_view::npos && d > 0) bare = std::string(local.substr(0, d)) +
                                                         (at == std::string::npos ? "" : full.substr(at));
    }
    auto r = lookup(full, false);
    if (!r.is_not_found()) return r;
    if (!bare.empty()) {
        r = lookup(bare, true);
        if (!r.is_not_found()) return r;
    }
    if (at == std::string::npos) return r;
    std::string_view name = std::string_view(full).substr(at + 1);
    while (!name.empty()) {
        r = maps.find(name, true);
        if (!r.is_not_found()) return r;
        auto dot = name.find('.', 1);
        if (dot == std::string_view::npos) break;
        name.remove_prefix(parent_style ? dot + 1 : dot);
    }
    r = lookup(full.substr(0, at + 1), true);
    if (!r.is_not_found()) return r;
    if (!bare.empty()) r = lookup(bare.substr(0, bare.rfind('@') + 1), true);
    return r;
}

Status SmtpdCheck::Impl::check_mail_access(Eval& e, std::string_view table_name, std::string_view addr,
                                           bool& found, std::string_view reply_name,
                                           std::string_view reply_class, std::string_view def_acl) {
    bool sender_class = reply_class == reply_class::kSender;
    auto reply = resolve(sender_class ? std::string_view(e.recipient.value_or("")) : e.sender.value_or(""), addr);
    if (!reply) return dict_retry(e, addr);
    if (reply->recipient.rfind('@') == std::string::npos) {
        util::msg_warn("check_mail_access: no @domain in address: {}", reply->recipient);
        return Status::dunno;
    }
    bool suspicious = !params.allow_untrusted_routing && (reply->flags & ipc::kResolveRouted) &&
                      reply_class == reply_class::kRecipient;
    const mail::Maps* maps = table(table_name);
    if (!maps) {
        util::msg_warn("check_mail_access: unexpected dictionary: {}", table_name);
        return table_result(e, table_name, kConfigError, reply->recipient, reply_name, reply_class, def_acl);
    }
    auto r = find_mail_address(*maps, reply->recipient, params.recipient_delimiter, params.access_parent_style);
    if (r.is_found()) {
        found = true;
        Status s = table_result(e, table_name, r.value(), reply->recipient, reply_name, reply_class, def_acl);
        return s == Status::ok && suspicious ? Status::dunno : s;
    }
    if (r.is_error()) return table_result(e, table_name, kConfigError, reply->recipient, reply_name, reply_class, def_acl);
    return Status::dunno;
}

// getaddrinfo's wording (gai_strerror) of a failed host address lookup.
static std::string_view addr_lookup_error_text(CheckServices::DnsAnswer::Status status) {
    using S = CheckServices::DnsAnswer::Status;
    switch (status) {
    case S::temp_fail: return "Temporary failure in name resolution";
    case S::not_found: return "No address associated with hostname";
    case S::nxdomain: return "Name or service not known";
    default: return "Non-recoverable failure in name resolution";
    }
}

Status SmtpdCheck::Impl::check_server_access(Eval& e, std::string_view table_name, std::string_view name,
                                             std::string_view type, std::string_view reply_name,
                                             std::string_view reply_class, std::string_view def_acl) {
    bool found = false;
    std::string_view domain = name;
    if (auto at = name.rfind('@'); at != std::string_view::npos) domain = name.substr(at + 1);

    if (!domain.empty() && domain.front() == '[') {
        if (type != "A" && type != "MX") return Status::dunno;
        if (domain.back() != ']') return Status::dunno;
        auto bare = mail::valid_mailhost_addr(domain.substr(1, domain.size() - 2), false);
        if (!bare) return Status::dunno;
        return check_addr_access(e, table_name, *bare, false, found, reply_name, reply_class, def_acl);
    }

    std::vector<std::string> servers;
    if (type == "A" || type == "AAAA") {
        servers.emplace_back(domain);
    } else {
        std::string lookup_name(domain);
        auto answer = services.dns(lookup_name, type);
        using S = CheckServices::DnsAnswer::Status;
        if (answer.status == S::ok && type == "MX" && answer.values.size() == 1 &&
            (answer.values[0].empty() || answer.values[0] == "."))
            return Status::dunno;  // null MX
        if (answer.status == S::not_found || answer.status == S::nxdomain) {
            if (type == "MX") {
                answer.status = S::ok;
                answer.values = {lookup_name};
            } else if (type == "NS") {
                std::string_view d = domain;
                for (;;) {
                    auto dot = d.find('.');
                    if (dot == std::string_view::npos || dot + 1 >= d.size()) break;
                    d.remove_prefix(dot + 1);
                    lookup_name = std::string(d);
                    answer = services.dns(lookup_name, type);
                    if (answer.status != S::not_found && answer.status != S::nxdomain) break;
                }
            }
        }
        if (answer.status != S::ok) {
            // The reference names the domain that failed, or the whole name
            // when the NS walk up the parent domains found nothing, and
            // words the last lookup's failure as its resolver does.
            bool none = answer.status == S::not_found || answer.status == S::nxdomain;
            util::msg_warn("Unable to look up {} host for {}: {}", type, none ? name : std::string_view(lookup_name),
                           answer.status == S::temp_fail   ? "Host not found, try again"
                           : answer.status == S::nxdomain  ? "Host not found"
                           : answer.status == S::not_found ? "Host found but no data record of requested type"
                                                           : "Non-recoverable error");
            return Status::dunno;
        }
        servers = std::move(answer.values);
    }

    int addr_count = 0;
    for (const auto& server : servers) {
        if (mail::valid_hostaddr(server, false)) {
            Status s = check_addr_access(e, table_name, server, false, found, reply_name, reply_class, def_acl);
            if (s != Status::dunno || found) return s;
            continue;
        }
        if (type != "A" && type != "AAAA") {
            Status s = check_domain_access(e, table_name, server, false, found, reply_name, reply_class, def_acl);
            if (s != Status::dunno || found) return s;
        }
        auto addrs = services.dns(server, "ADDR");
        if (addrs.status != CheckServices::DnsAnswer::Status::ok) {
            if (type != "A" && type != "AAAA")
                util::msg_warn("Unable to look up {} host {} for {} {}: {}", type, server, reply_class, reply_name,
                               addr_lookup_error_text(addrs.status));
            continue;
        }
        for (const auto& a : addrs.values) {
            if (++addr_count > 100) {
                util::msg_warn("check_server_access: {} server address count limit (100) exceeded for {} {} -- "
                               "ignoring the remainder",
                               type, reply_class, reply_name);
                return Status::dunno;
            }
            Status s = check_addr_access(e, table_name, a, false, found, reply_name, reply_class, def_acl);
            if (s != Status::dunno || found) return s;
        }
    }
    return Status::dunno;
}

}  // namespace pf::smtpd
