// The "resolve" and "verify" requests, as the reference's trivial-rewrite
// answers them: local domains are stripped off the recipient (repeatedly,
// so "user%remote@local" routes to remote), routing operators in the
// local-part are cracked open (also inside quotes with
// resolve_dequoted_address), the empty local-part becomes
// empty_address_recipient; a recipient domain that is no valid hostname,
// address literal, or (SMTPUTF8 on) UTF-8 name with an IDNA ASCII form makes
// the address an error; then the domain decides the class: local
// (mydestination, own interface literals), virtual alias (error: User
// unknown), virtual mailbox, relay, or default; the class's transport
// parameter ("transport[:nexthop]"), relayhost and the sender-dependent
// tables give transport and nexthop; transport_maps may override them;
// relocated_maps bounces moved users.
#include "ipc/services.h"
#include "trivial_rewrite.h"

#include "mail/address_hostaddr.h"
#include "mail/address_idna.h"
#include "mail/address_quote.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace pf::rewrite {

namespace {

using util::iequals;

bool listed(const std::unique_ptr<mail::DomainList>& l, std::string_view d) {
    return l && l->match(d) == mail::DomainMatch::yes;
}

}  // namespace

ResolveResult resolve_address(std::string_view sender, std::string_view address, bool verify,
                              const ResolveSettings& s, const RewriteSettings& rw) {
    using namespace pf::ipc;
    ResolveResult res;
    res.transport = "CHANNEL NOT UPDATED";
    res.nexthop = "NEXTHOP NOT UPDATED";
    res.recipient = "NEXTRCPT NOT UPDATED";
    const RouteSettings& route = verify ? s.verify : s.regular;
    auto is_local = [&](std::string_view d) { return s.local ? s.local->is_local(d) : 0; };

    TokenList tree = mail::scan_822_address(mail::quote_822_local(address));
    std::optional<TokenList> saved_domain;
    bool remote = false;  // the loop stopped at a non-local domain
    const std::size_t loop_max = address.size() + 100;
    for (std::size_t loop = 0;; ++loop) {
        if (loop > loop_max) {
            msg_warn("resolve_addr: <{}>: giving up after {} iterations", address, loop);
            res.flags |= kResolveFail;
            return res;
        }
        // A trailing dot goes (not ".." or "@.") when there is a domain.
        if (tree.size() >= 2 && is_op(tree.back(), '.') && rfind_op(tree, '@') != std::string::npos &&
            !is_op(tree[tree.size() - 2], '.') && !is_op(tree[tree.size() - 2], '@'))
            tree.pop_back();
        if (s.resolve_null_domain && !tree.empty() && is_op(tree.back(), '@')) tree.pop_back();

        // Strip (and keep) a local @domain.
        if (auto at = rfind_op(tree, '@'); at != std::string::npos) {
            if (at + 1 < tree.size()) {
                TokenList dom(tree.begin() + static_cast<long>(at) + 1, tree.end());
                int rc = is_local(mail::internalize_822(dom));
                if (rc < 0) {
                    res.flags |= kResolveFail;
                    return res;
                }
                if (rc == 0) {
                    remote = true;
                    break;
                }
            }
            saved_domain = TokenList(tree.begin() + static_cast<long>(at), tree.end());
            tree.erase(tree.begin() + static_cast<long>(at), tree.end());
        }
        // Routing operators left: rewrite to user@domain and go round again.
        if (rfind_op(tree, '@') != std::string::npos ||
            (rw.swap_bangpath && rfind_op(tree, '!') != std::string::npos) ||
            (rw.percent_hack && rfind_op(tree, '%') != std::string::npos)) {
            rewrite_tokens(tree, rw.local, rw);
            continue;
        }
        // A quoted local-part with routing operators inside.
        if (s.resolve_dequoted && tree.size() == 1 && tree[0].kind == TokenKind::quoted_string) {
            std::string& local = tree[0].text;
            std::size_t oper = local.rfind('@');
            if (oper == std::string::npos && rw.percent_hack) oper = local.rfind('%');
            if (oper == std::string::npos && rw.swap_bangpath) oper = local.rfind('!');
            if (oper != std::string::npos) {
                if (local[oper] == '%') local[oper] = '@';
                std::string text = mail::internalize_822(tree);
                if (local[oper] == '@') text = mail::quote_822_local(text);
                tree = mail::scan_822(text);
                rewrite_tokens(tree, rw.local, rw);
                continue;
            }
        }
        // The empty local-part becomes empty_address_recipient.
        if (tree.size() == 1 && tree[0].kind == TokenKind::quoted_string && tree[0].text.empty()) tree.clear();
        if (tree.empty()) {
            tree = mail::scan_822(s.empty_address_recipient);
            continue;
        }
        if (!saved_domain) {
            tree.push_back(AddressToken::special_token('@'));
            for (auto& t : mail::scan_822(s.myhostname)) tree.push_back(std::move(t));
            continue;
        }
        break;
    }
    if (!remote) {
        if (saved_domain) {
            for (auto& t : *saved_domain) tree.push_back(std::move(t));
        } else {
            tree.push_back(AddressToken::special_token('@'));
            for (auto& t : mail::scan_822(s.myhostname)) tree.push_back(std::move(t));
        }
    }
    res.recipient = mail::internalize_822(tree);
    auto at = res.recipient.rfind('@');
    if (at == std::string::npos) msg_panic("no @ in address: \"{}\"", res.recipient);
    std::string rcpt_domain = res.recipient.substr(at + 1);
    if (!rcpt_domain.empty() && rcpt_domain.front() == '[') {
        if (!mail::valid_mailhost_literal(rcpt_domain, false)) res.flags |= kResolveError;
    } else if (s.smtputf8 && !util::valid_utf8(res.recipient)) {
        res.flags |= kResolveError;
    } else if (!mail::valid_utf8_hostname(s.smtputf8, rcpt_domain, false)) {
        if (s.resolve_numeric_domain && mail::valid_hostaddr(rcpt_domain, false)) {
            res.recipient.insert(at + 1, "[");
            res.recipient.push_back(']');
            rcpt_domain = res.recipient.substr(at + 1);
            int rc = is_local(rcpt_domain);
            if (rc > 0) remote = false;
            else if (rc < 0) {
                res.flags |= kResolveFail;
                return res;
            }
        } else {
            res.flags |= kResolveError;
        }
    }
    if (res.flags & kResolveError) {
        res.flags |= kResolveClassDefault;
        return res;
    }
    // Routing operators in the local-part, whatever our own settings.
    {
        auto first = res.recipient.find_first_of("@!%");
        if (res.recipient.compare(first + 1, std::string::npos, rcpt_domain) != 0) res.flags |= kResolveRouted;
    }

    const std::string* blame = nullptr;
    auto fail = [&](std::string_view what) {
        msg_warn("{} lookup failure", what);
        res.flags |= kResolveFail;
    };
    if (remote) {
        auto alias = s.virtual_alias_domains ? s.virtual_alias_domains->match(rcpt_domain) : mail::DomainMatch::no;
        if (alias == mail::DomainMatch::yes) {
            if (s.helpful_warnings) {
                if (listed(s.virtual_mailbox_domains, rcpt_domain))
                    msg_warn("do not list domain {} in BOTH {} and {}", rcpt_domain, "virtual_alias_domains",
                             "virtual_mailbox_domains");
                if (listed(s.relay_domains, rcpt_domain))
                    msg_warn("do not list domain {} in BOTH {} and {}", rcpt_domain, "virtual_alias_domains",
                             "relay_domains");
            }
            res.transport = "error";
            res.nexthop = std::string("5.1.1 User unknown") + (s.show_unknown_table ? " in virtual alias table" : "");
            res.flags |= kResolveClassAlias;
        } else if (alias == mail::DomainMatch::error) {
            fail("virtual_alias_domains");
            return res;
        } else {
            auto mbox = s.virtual_mailbox_domains ? s.virtual_mailbox_domains->match(rcpt_domain) : mail::DomainMatch::no;
            if (mbox == mail::DomainMatch::yes) {
                if (s.helpful_warnings && listed(s.relay_domains, rcpt_domain))
                    msg_warn("do not list domain {} in BOTH {} and {}", rcpt_domain, "virtual_mailbox_domains",
                             "relay_domains");
                res.transport = route.virtual_transport;
                res.nexthop = rcpt_domain;
                blame = &route.virtual_transport_name;
                res.flags |= kResolveClassVirtual;
            } else if (mbox == mail::DomainMatch::error) {
                fail("virtual_mailbox_domains");
                return res;
            } else {
                auto relay = s.relay_domains ? s.relay_domains->match(rcpt_domain) : mail::DomainMatch::no;
                if (relay == mail::DomainMatch::yes) {
                    res.transport = route.relay_transport;
                    blame = &route.relay_transport_name;
                    res.flags |= kResolveClassRelay;
                } else if (relay == mail::DomainMatch::error) {
                    fail("relay_domains");
                    return res;
                } else {
                    std::string key = sender.empty() ? s.null_transport_key : std::string(sender);
                    dict::LookupResult x = dict::LookupResult::not_found();
                    mail::AddressMaps::AddressContext ctx{s.recipient_delimiter, is_local, s.myorigin};
                    if (route.sender_transport) x = route.sender_transport->find_address(key, mail::kFindDefault, ctx);
                    if (x.is_found()) {
                        std::string v = x.value();
                        if (iequals(v, "DUNNO")) v = route.default_transport;
                        res.transport = v;
                        blame = &route.sender_transport->title();
                    } else if (x.is_error()) {
                        fail(route.sender_transport->title());
                        return res;
                    } else {
                        res.transport = route.default_transport;
                        blame = &route.default_transport_name;
                    }
                    res.flags |= kResolveClassDefault;
                }
                std::string key = sender.empty() ? s.null_relay_key : std::string(sender);
                std::optional<std::string> relay_host;
                if (route.sender_relay) {
                    mail::AddressMaps::AddressContext ctx{s.recipient_delimiter, is_local, s.myorigin};
                    auto y = route.sender_relay->find_address(key, mail::kFindDefault, ctx);
                    if (y.is_found() && !iequals(y.value(), "DUNNO")) relay_host = y.value();
                    else if (y.is_error()) {
                        fail(route.sender_relay->title());
                        return res;
                    }
                }
                if (relay_host) res.nexthop = *relay_host;
                else if (!route.relayhost.empty()) res.nexthop = route.relayhost;
                else res.nexthop = rcpt_domain;
            }
        }
    } else {
        if (s.helpful_warnings) {
            if (listed(s.virtual_alias_domains, rcpt_domain))
                msg_warn("do not list domain {} in BOTH {} and {}", rcpt_domain, "mydestination", "virtual_alias_domains");
            if (listed(s.virtual_mailbox_domains, rcpt_domain))
                msg_warn("do not list domain {} in BOTH {} and {}", rcpt_domain, "mydestination",
                         "virtual_mailbox_domains");
        }
        res.transport = route.local_transport;
        res.nexthop = rcpt_domain;
        blame = &route.local_transport_name;
        res.flags |= kResolveClassLocal;
    }
    // "transport:nexthop" in a main.cf transport setting.
    if (auto colon = res.transport.find(':'); colon != std::string::npos) {
        std::string dest = res.transport.substr(colon + 1);
        res.transport.resize(colon);
        if (!dest.empty()) res.nexthop = dest;
    }
    if (res.transport.empty()) {
        if (!blame) msg_panic("resolve_addr: null blame");
        msg_warn("file {}/main.cf: parameter {}: null transport is not allowed", s.config_directory, *blame);
        res.flags |= kResolveFail;
        return res;
    }
    if (route.transport_maps && !(res.flags & kResolveClassAlias)) {
        auto o = route.transport_maps->lookup(res.recipient, rcpt_domain, res.transport, res.nexthop,
                                              s.recipient_delimiter);
        if (o == TransportMaps::Outcome::error) {
            fail(verify ? "address_verify_transport_maps" : "transport_maps");
            return res;
        }
    }
    if (s.relocated) {
        mail::AddressMaps::AddressContext ctx{s.recipient_delimiter, is_local, s.myorigin};
        auto r = s.relocated->find_address(res.recipient, mail::kFindDefault, ctx);
        if (r.is_found()) {
            res.transport = "error";
            res.nexthop = "5.1.6 User has moved to " + r.value();
        } else if (r.is_error()) {
            fail("relocated_maps");
            return res;
        }
    }
    if (!s.allow_min_user && !res.recipient.empty() && res.recipient.front() == '-') {
        res.flags |= kResolveError;
        return res;
    }
    return res;
}

}  // namespace pf::rewrite
