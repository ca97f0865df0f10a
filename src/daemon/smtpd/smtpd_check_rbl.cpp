// DNS black and white lists: reject_rbl_client, permit_dnswl_client,
// reject_rhsbl_{client,reverse_client,helo,sender,recipient},
// permit_rhswl_client, as the reference builds the queries (reversed IPv4
// octets or IPv6 nibbles, or the domain, before the list's domain), filters
// the answers ("list.example=127.0.0.[2..11;13]"), and words the reply
// (rbl_reply_maps, else default_rbl_reply expanded with $rbl_code,
// $rbl_class, $rbl_what, $rbl_domain, $rbl_reason/$rbl_txt and the client
// attributes). An unreachable list gives the client the benefit of the
// doubt (a warning), except that a whitelist then turns a later reject
// into a deferral.
//
// Trust: DNS answers are outside input; the TXT text is made printable by
// the reply formatter.
#include "daemon/smtpd/smtpd_check_impl.h"

#include "config/expand.h"
#include "config/mail_params.h"
#include "ipc/deliver_dsn.h"
#include "mail/address_hostaddr.h"
#include "mail/address_idna.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <arpa/inet.h>

#include <fmt/core.h>

namespace pf::smtpd {

namespace {

using DnsStatus = CheckServices::DnsAnswer::Status;

// One byte pattern of "a.b.c.d" where each part is a number or
// "[n..m;k]": whether addr (dotted IPv4) matches.
bool rbl_pattern_matches(std::string_view pattern, std::string_view addr) {
    auto parts = util::split_tokens(addr, ".");
    std::vector<std::string_view> pats;
    std::size_t start = 0;
    int depth = 0;
    for (std::size_t i = 0; i <= pattern.size(); ++i) {
        if (i == pattern.size() || (pattern[i] == '.' && depth == 0)) {
            pats.push_back(pattern.substr(start, i - start));
            start = i + 1;
        } else if (pattern[i] == '[') {
            ++depth;
        } else if (pattern[i] == ']') {
            --depth;
        }
    }
    if (pats.size() != 4 || parts.size() != 4) return false;
    for (int i = 0; i < 4; ++i) {
        int v = std::atoi(std::string(parts[i]).c_str());
        std::string_view p = pats[i];
        if (p.size() >= 2 && p.front() == '[' && p.back() == ']') {
            bool any = false;
            for (auto item : util::split_tokens(p.substr(1, p.size() - 2), ";")) {
                auto dots = item.find("..");
                int lo = std::atoi(std::string(item.substr(0, dots)).c_str());
                int hi = dots == std::string_view::npos ? lo : std::atoi(std::string(item.substr(dots + 2)).c_str());
                any = any || (v >= lo && v <= hi);
            }
            if (!any) return false;
        } else if (std::atoi(std::string(p).c_str()) != v) {
            return false;
        }
    }
    return true;
}

struct RblHit {
    enum class Kind { none, soft, hit } kind = Kind::none;
    std::string txt;
};

}  // namespace

// One list lookup, through the process's cache: the A records of the query
// name (a failure other than "not found" warns, when first seen), then its
// TXT records when listed; the reply filter applies to the cached records.
static RblHit rbl_lookup(SmtpdCheck::Impl& m, std::string query) {
    constexpr std::size_t kCacheSize = 100;
    constexpr std::size_t kTxtLimit = 500;
    RblHit hit;
    std::string reply_filter;
    if (auto eq = query.find('='); eq != std::string::npos) {
        reply_filter = query.substr(eq + 1);
        query.resize(eq);
    }
    auto& cache = m.rbl_cache;
    auto it = cache.begin();
    while (it != cache.end() && it->first != query) ++it;
    if (it != cache.end()) {
        cache.splice(cache.begin(), cache, it);
    } else {
        SmtpdCheck::Impl::RblCacheEntry entry;
        auto a = m.services.dns(query, "A");
        if (a.status != DnsStatus::ok && a.status != DnsStatus::not_found && a.status != DnsStatus::nxdomain) {
            util::msg_warn("{}: RBL lookup error: Host or domain name not found. Name service error for name={} "
                           "type=A: Host not found, try again",
                           query, query);
            entry.kind = 1;
        } else if (a.status == DnsStatus::ok) {
            entry.kind = 2;
            entry.addrs = std::move(a.values);
            auto txt = m.services.dns(query, "TXT");
            if (txt.status == DnsStatus::ok)
                for (const auto& t : txt.values) entry.txt += (entry.txt.empty() ? "" : " / ") + t;
            if (entry.txt.size() > kTxtLimit) entry.txt.resize(kTxtLimit);   // as the reference cuts it
        }
        cache.emplace_front(query, std::move(entry));
        if (cache.size() > kCacheSize) cache.pop_back();
    }
    const auto& entry = cache.front().second;
    if (entry.kind == 1) hit.kind = RblHit::Kind::soft;
    if (entry.kind != 2) return hit;
    if (!reply_filter.empty()) {
        bool any = false;
        for (const auto& v : entry.addrs) any = any || rbl_pattern_matches(reply_filter, v);
        if (!any) return hit;
    }
    hit.kind = RblHit::Kind::hit;
    hit.txt = entry.txt;
    return hit;
}

static std::string addr_query(std::string_view addr, std::string_view rbl_domain) {
    std::string q;
    if (mail::valid_ipv6_hostaddr(addr, false)) {
        unsigned char b[16];
        if (inet_pton(AF_INET6, std::string(addr).c_str(), b) == 1)
            for (int i = 15; i >= 0; --i) q += fmt::format("{:x}.{:x}.", b[i] & 0xf, b[i] >> 4);
    } else {
        auto octets = util::split_tokens(addr, ".");
        for (auto it = octets.rbegin(); it != octets.rend(); ++it) {
            q += *it;
            q += '.';
        }
    }
    q += rbl_domain;
    return q;
}

// The domain an rhsbl query is about, or nullopt when there is none.
static std::optional<std::string> rhs_domain(std::string_view what) {
    std::string_view domain = what;
    if (auto at = what.rfind('@'); at != std::string_view::npos) {
        domain = what.substr(at + 1);
        if (!domain.empty() && domain.front() == '[') return std::nullopt;
    }
    if (domain.empty()) return std::nullopt;
    auto dot = domain.rfind('.');
    std::string_view last = dot == std::string_view::npos ? domain : domain.substr(dot + 1);
    if (!last.empty() && last.find_first_not_of("0123456789") == std::string_view::npos) return std::nullopt;
    std::string d(domain);
    if (!util::all_ascii(d))
        if (auto a = mail::idna_domain_to_ascii(d)) d = *a;
    if (d.empty() || !config::valid_hostname(d, false)) return std::nullopt;
    return d;
}

static Status rbl_reply(SmtpdCheck::Impl& m, Eval& e, const RblHit& hit, std::string_view rbl_domain,
                        std::string_view what, std::string_view cls) {
    std::string tmpl;
    if (m.rbl_reply_maps && !m.rbl_reply_maps->empty()) {
        auto r = m.rbl_reply_maps->find(rbl_domain, false);
        if (r.is_error()) return m.server_error(e);
        if (r.is_found()) tmpl = r.value();
    }
    std::string domain(rbl_domain.substr(0, rbl_domain.find('=')));
    auto lookup = [&](std::string_view name) -> std::optional<std::string> {
        if (name == "rbl_code") return std::to_string(m.params.maps_rbl_code);
        if (name == "rbl_domain") return domain;
        if (name == "rbl_reason" || name == "rbl_txt") return hit.txt.empty() ? std::nullopt : std::optional(hit.txt);
        if (name == "rbl_what") return std::string(what);
        if (name == "rbl_class") return std::string(cls);
        if (name == "client_address") return e.in.client_addr;
        if (name == "client_name") return e.in.client_name;
        if (name == "reverse_client_name") return e.in.reverse_name;
        if (name == "client_port") return e.in.client_port;
        if (name == "helo_name") return e.helo;
        if (name == "sender") return e.sender;
        if (name == "recipient") return e.recipient;
        return std::nullopt;
    };
    std::string why;
    for (int pass = 0; pass < 2; ++pass) {
        bool is_default = tmpl.empty();
        if (is_default) tmpl = m.params.default_rbl_reply;
        config::ExpandHooks hooks;
        hooks.lookup = lookup;
        hooks.recurse = false;
        auto r = config::expand(tmpl, hooks);
        if (r.status == config::ExpandStatus::ok) {
            why = r.text;
            break;
        }
        if (is_default) util::msg_fatal("rbl_reject_reply: bad default rbl reply template: {}", tmpl);
        util::msg_warn("rbl_reject_reply: bad rbl reply template for domain {}: {}", rbl_domain, tmpl);
        tmpl.clear();
    }
    if (why.size() < 4 || (why[0] != '4' && why[0] != '5') || why[1] < '0' || why[1] > '9' || why[2] < '0' ||
        why[2] > '9' || why[3] != ' ') {
        util::msg_warn("rbl response code configuration error: {}", why);
        return m.reject(e, error_class::kPolicy, 450, "4.7.1", "Service unavailable");
    }
    int code = std::atoi(why.substr(0, 3).c_str());
    auto dp = ipc::dsn_split("4.7.1", std::string_view(why).substr(4));
    std::string dsn = smtpd_dsn_fix(dp.status, cls, e.out.log);
    return m.reject(e, error_class::kPolicy, code, dsn, dp.text.empty() ? std::string_view("Service unavailable") : dp.text);
}

Status SmtpdCheck::Impl::reject_rbl_addr(Eval& e, std::string_view rbl_domain, std::string_view addr,
                                         std::string_view cls) {
    RblHit hit = rbl_lookup(*this, addr_query(addr, rbl_domain));
    if (hit.kind != RblHit::Kind::hit) return Status::dunno;
    return rbl_reply(*this, e, hit, rbl_domain, addr, cls);
}

Status SmtpdCheck::Impl::reject_rbl_domain(Eval& e, std::string_view rbl_domain, std::string_view what,
                                           std::string_view cls) {
    auto d = rhs_domain(what);
    if (!d) return Status::dunno;
    RblHit hit = rbl_lookup(*this, *d + "." + std::string(rbl_domain));
    if (hit.kind != RblHit::Kind::hit) return Status::dunno;
    return rbl_reply(*this, e, hit, rbl_domain, what, cls);
}

Status SmtpdCheck::Impl::permit_dnswl_addr(Eval& e, std::string_view dnswl_domain, std::string_view addr,
                                           std::string_view cls) {
    if (e.where == "RCPT" && e.recipient && permit_auth_destination(e, *e.recipient) != Status::ok)
        return Status::dunno;
    RblHit hit = rbl_lookup(*this, addr_query(addr, dnswl_domain));
    if (hit.kind == RblHit::Kind::soft) {
        defer_if(defer_if_reject, error_class::kPolicy, 450, "4.7.1",
                 fmt::format("<{}>: {} rejected: Service unavailable", addr, cls));
        return Status::dunno;
    }
    return hit.kind == RblHit::Kind::hit ? Status::ok : Status::dunno;
}

Status SmtpdCheck::Impl::permit_dnswl_domain(Eval& e, std::string_view dnswl_domain, std::string_view what,
                                             std::string_view cls) {
    if (e.where == "RCPT" && e.recipient && permit_auth_destination(e, *e.recipient) != Status::ok)
        return Status::dunno;
    auto d = rhs_domain(what);
    if (!d) return Status::dunno;
    RblHit hit = rbl_lookup(*this, *d + "." + std::string(dnswl_domain));
    if (hit.kind == RblHit::Kind::soft) {
        defer_if(defer_if_reject, error_class::kPolicy, 450, "4.7.1",
                 fmt::format("<{}>: {} rejected: Service unavailable", what, cls));
        return Status::dunno;
    }
    return hit.kind == RblHit::Kind::hit ? Status::ok : Status::dunno;
}

}  // namespace pf::smtpd
