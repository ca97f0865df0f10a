// The restriction-list interpreter (the reference's generic_checks): walks
// one list left to right, runs each restriction by name (case does not
// matter), follows restriction classes, applies warn_if_reject to the next
// restriction only, stops at the first permit or reject, and reports names
// it does not know ("unknown smtpd restriction") or arguments it needs
// ("need maptype:mapname", "must be followed by number", ...) as the
// reference does: a warning and "451 4.3.5 Server configuration error".
//
// Trust: the lists come from main.cf and from access-table answers.
#include "daemon/smtpd/smtpd_check_impl.h"

#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::smtpd {

Restrictions parse_restrictions(std::string_view text) { return util::split_braced_list(text); }

namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

bool unknown_name(const std::optional<std::string>& name) { return !name || util::iequals(*name, "unknown"); }

}  // namespace

Status SmtpdCheck::Impl::generic_checks(Eval& e, const Restrictions& list, std::string_view reply_name,
                                        std::string_view reply_class, std::string_view def_acl) {
    Status status = Status::dunno;
    int saved_recursion = recursion++;
    const std::size_t n = list.size();

    for (std::size_t i = 0; i < n; ++i) {
        if (discard) break;
        std::string_view name = list[i];
        auto is = [&](std::string_view w) { return util::iequals(name, w); };
        auto next = [&]() -> const std::string* { return i + 1 < n ? &list[i + 1] : nullptr; };

        if (is("warn_if_reject")) {
            if (warn_if_reject == 0) warn_if_reject = recursion;
            continue;
        }
        // A bare "type:table" uses the list's own access check.
        bool implicit_table = false;
        if (name.find(':') != std::string_view::npos) {
            if (def_acl.empty()) {
                util::msg_warn("specify one of (check_client_access, check_reverse_client_hostname_access, check_helo_access, "
                               "check_sender_access, check_recipient_access, check_etrn_access) before {} "
                               "restriction \"{}\"",
                               reply_class, name);
                status = server_error(e);
                break;
            }
            implicit_table = true;
            name = def_acl;
        }
        // Map commands take the next word (or, implicitly, this one) as table.
        std::string_view table_arg;
        bool map_error = false;
        auto map_command = [&](std::string_view command) {
            if (!util::iequals(name, command)) return false;
            if (implicit_table) {
                table_arg = list[i];
                return true;
            }
            const std::string* arg = next();
            if (!arg || arg->find(':') == std::string::npos) {
                util::msg_warn("restriction {}: bad argument \"{}\": need maptype:mapname", command,
                               arg ? std::string_view(*arg) : name);
                map_error = true;
                return true;
            }
            table_arg = *arg;
            ++i;
            return true;
        };
        auto rbl_arg = [&]() -> const std::string* {
            const std::string* arg = next();
            if (!arg) util::msg_warn("restriction {} requires domain name argument", name);
            else ++i;
            return arg;
        };
        bool found = false;
        const std::optional<std::string> client_name = e.in.client_name;
        const std::optional<std::string> reverse_name = e.in.reverse_name;
        auto forbid_allowlist = [&](std::string_view target) {
            if (!discard && status == Status::ok) {
                util::msg_warn("restriction {} returns OK for {}", name, target);
                util::msg_warn("this is not allowed for security reasons");
                util::msg_warn("use DUNNO instead of OK if you want to make an exception");
                status = server_error(e);
            }
        };

        if (is("permit")) {
            status = acl_permit(e, name, reply_class, reply_name, "");
            if (status == Status::ok && next()) util::msg_warn("restriction `{}' after `permit' is ignored", *next());
        } else if (is("defer")) {
            status = reject(e, error_class::kPolicy, params.defer_code, "4.3.2",
                            fmt::format("<{}>: {} rejected: Try again later", reply_name, reply_class));
            if (next() && warn_if_reject == 0) util::msg_warn("restriction `{}' after `defer' is ignored", *next());
        } else if (is("reject")) {
            status = reject(e, error_class::kPolicy, params.reject_code, "5.7.1",
                            fmt::format("<{}>: {} rejected: Access denied", reply_name, reply_class));
            if (next() && warn_if_reject == 0) util::msg_warn("restriction `{}' after `reject' is ignored", *next());
        } else if (is("reject_unauth_pipelining")) {
            if (e.in.pipelining_violation)
                status = reject(e, error_class::kProtocol, 503, "5.5.0",
                                fmt::format("<{}>: {} rejected: Improper use of SMTP command pipelining", reply_name,
                                            reply_class));
        } else if (is("check_policy_service")) {
            const std::string* arg = next();
            if (!arg || arg->find(':') == std::string::npos) {
                util::msg_warn("restriction check_policy_service must be followed by transport:server");
                status = server_error(e);
            } else {
                ++i;
                status = check_policy_service(e, *arg, reply_name, reply_class, def_acl);
            }
        } else if (is("defer_if_permit")) {
            status = defer_if_permit_or_reject(true, e, error_class::kPolicy, 450, "4.7.0",
                                               fmt::format("<{}>: {} rejected: defer_if_permit requested",
                                                           reply_name, reply_class));
        } else if (is("defer_if_reject")) {
            defer_if(defer_if_reject, error_class::kPolicy, 450, "4.7.0",
                     fmt::format("<{}>: {} rejected: defer_if_reject requested", reply_name, reply_class));
        } else if (is("sleep")) {
            const std::string* arg = next();
            if (!arg || !all_digits(*arg)) {
                util::msg_warn("restriction sleep must be followed by number");
                status = server_error(e);
            } else {
                ++i;
                services.sleep(std::atoi(arg->c_str()));
            }
        } else if (is("reject_plaintext_session")) {
            if (e.in.tls_protocol.empty())
                status = reject(e, error_class::kPolicy, params.plaintext_code, "4.7.1", "Session encryption is required");
        } else if (is("reject_unknown_client_hostname") || is("reject_unknown_client")) {
            status = reject_unknown_client(e);
        } else if (is("reject_unknown_reverse_client_hostname")) {
            status = reject_unknown_reverse_name(e);
        } else if (is("permit_inet_interfaces")) {
            // The reference looks at the connection's own address, not at XCLIENT's.
            if (own_inet_address(e.in.peer_addr.empty() ? e.in.client_addr : e.in.peer_addr)) status = acl_permit(e, name, reply_class::kClient, e.namaddr, "");
        } else if (is("permit_mynetworks")) {
            status = permit_mynetworks(e);
            if (status == Status::ok) status = acl_permit(e, name, reply_class::kClient, e.namaddr, "");
        } else if (map_command("check_client_access")) {
            if (!map_error)
                status = check_namadr_access(e, table_arg, e.in.client_name, e.in.client_addr, found, e.namaddr,
                                             reply_class::kClient, def_acl);
        } else if (map_command("check_reverse_client_hostname_access")) {
            if (!map_error) {
                status = check_namadr_access(e, table_arg, e.in.reverse_name, e.in.client_addr, found,
                                             e.in.reverse_name, reply_class::kReverseClient, def_acl);
                forbid_allowlist(e.in.reverse_name);
            }
        } else if (is("reject_maps_rbl")) {
            util::msg_warn("support for restriction \"reject_maps_rbl\" will be removed from Postfix; use "
                           "\"reject_rbl_client domain-name\" instead");
            for (const auto& d : util::split_tokens(params.maps_rbl_domains, " \t\r\n,")) {
                status = reject_rbl_addr(e, d, e.in.client_addr, reply_class::kClient);
                if (status != Status::dunno) break;
            }
        } else if (is("reject_rbl_client") || is("reject_rbl")) {
            if (auto* d = rbl_arg()) status = reject_rbl_addr(e, *d, e.in.client_addr, reply_class::kClient);
        } else if (is("permit_dnswl_client")) {
            if (auto* d = rbl_arg()) {
                status = permit_dnswl_addr(e, *d, e.in.client_addr, reply_class::kClient);
                if (status == Status::ok) status = acl_permit(e, name, reply_class::kClient, e.namaddr, "");
            }
        } else if (is("reject_rhsbl_client")) {
            if (auto* d = rbl_arg(); d && !unknown_name(client_name))
                status = reject_rbl_domain(e, *d, e.in.client_name, reply_class::kClient);
        } else if (is("permit_rhswl_client")) {
            if (auto* d = rbl_arg(); d && !unknown_name(client_name)) {
                status = permit_dnswl_domain(e, *d, e.in.client_name, reply_class::kClient);
                if (status == Status::ok) status = acl_permit(e, name, reply_class::kClient, e.namaddr, "");
            }
        } else if (is("reject_rhsbl_reverse_client")) {
            if (auto* d = rbl_arg(); d && !unknown_name(reverse_name))
                status = reject_rbl_domain(e, *d, e.in.reverse_name, reply_class::kReverseClient);
        } else if (map_command("check_ccert_access")) {
            if (!map_error && !e.in.tls_protocol.empty() && !e.in.ccert_fingerprint.empty()) {
                for (const std::string* print : {&e.in.ccert_fingerprint, &e.in.ccert_pubkey_fingerprint}) {
                    status = check_access(e, table_arg, *print, false, found, e.in.ccert_subject,
                                          reply_class::kCcert, def_acl);
                    if (status != Status::dunno) break;
                }
            } else if (!map_error && !params.tls_ask_ccert) {
                util::msg_warn("check_ccert_access is requested, but \"smtpd_tls_ask_ccert = no\"");
            }
        } else if (map_command("check_sasl_access")) {
            if (!map_error) {
                if (params.sasl_enable) {
                    if (!e.in.sasl_username.empty())
                        status = check_access(e, table_arg, e.in.sasl_username, false, found, e.in.sasl_username,
                                              reply_class::kSaslUser, def_acl);
                } else {
                    util::msg_warn("restriction `{}' ignored: no SASL support", name);
                }
            }
        } else if (map_command("check_client_ns_access") || map_command("check_client_mx_access") ||
                   map_command("check_client_a_access")) {
            if (!map_error && !unknown_name(client_name)) {
                std::string_view type = util::iequals(name, "check_client_ns_access")   ? "NS"
                                        : util::iequals(name, "check_client_mx_access") ? "MX"
                                                                                          : "A";
                status = check_server_access(e, table_arg, e.in.client_name, type, e.namaddr, reply_class::kClient,
                                             def_acl);
                forbid_allowlist(e.in.client_name);
            }
        } else if (map_command("check_reverse_client_hostname_ns_access") ||
                   map_command("check_reverse_client_hostname_mx_access") ||
                   map_command("check_reverse_client_hostname_a_access")) {
            if (!map_error && !unknown_name(reverse_name)) {
                std::string_view type = util::iequals(name, "check_reverse_client_hostname_ns_access")   ? "NS"
                                        : util::iequals(name, "check_reverse_client_hostname_mx_access") ? "MX"
                                                                                                  : "A";
                status = check_server_access(e, table_arg, e.in.reverse_name, type, e.in.reverse_name,
                                             reply_class::kReverseClient, def_acl);
                forbid_allowlist(e.in.reverse_name);
            }
        } else if (map_command("check_helo_access")) {
            if (!map_error && e.helo)
                status = check_domain_access(e, table_arg, *e.helo, false, found, *e.helo, reply_class::kHelo, def_acl);
        } else if (is("reject_invalid_helo_hostname") || is("reject_invalid_hostname")) {
            if (e.helo) {
                if (e.helo->front() != '[')
                    status = reject_invalid_hostname(e, *e.helo, *e.helo, reply_class::kHelo);
                else
                    status = reject_invalid_hostaddr(e, *e.helo, *e.helo, reply_class::kHelo);
            }
        } else if (is("reject_unknown_helo_hostname") || is("reject_unknown_hostname")) {
            if (e.helo) {
                if (e.helo->front() != '[')
                    status = reject_unknown_hostname(e, *e.helo, *e.helo, reply_class::kHelo);
                else
                    status = reject_invalid_hostaddr(e, *e.helo, *e.helo, reply_class::kHelo);
            }
        } else if (is("permit_naked_ip_address")) {
            util::msg_warn("restriction permit_naked_ip_address is deprecated. Use permit_mynetworks or "
                           "permit_sasl_authenticated instead");
            if (e.helo && e.helo->find_first_not_of("0123456789.:") == std::string::npos) {
                status = reject_invalid_hostaddr(e, *e.helo, *e.helo, reply_class::kHelo);
                if (status == Status::dunno) status = acl_permit(e, name, reply_class::kHelo, *e.helo, "");
            }
        } else if (map_command("check_helo_ns_access") || map_command("check_helo_mx_access") ||
                   map_command("check_helo_a_access")) {
            if (!map_error && e.helo) {
                std::string_view type = util::iequals(name, "check_helo_ns_access")   ? "NS"
                                        : util::iequals(name, "check_helo_mx_access") ? "MX"
                                                                                        : "A";
                status = check_server_access(e, table_arg, *e.helo, type, *e.helo, reply_class::kHelo, def_acl);
                forbid_allowlist(*e.helo);
            }
        } else if (is("reject_non_fqdn_helo_hostname") || is("reject_non_fqdn_hostname")) {
            if (e.helo) {
                if (e.helo->front() != '[')
                    status = reject_non_fqdn_hostname(e, *e.helo, *e.helo, reply_class::kHelo);
                else
                    status = reject_invalid_hostaddr(e, *e.helo, *e.helo, reply_class::kHelo);
            }
        } else if (is("reject_rhsbl_helo")) {
            if (auto* d = rbl_arg(); d && e.helo) status = reject_rbl_domain(e, *d, *e.helo, reply_class::kHelo);
        } else if (map_command("check_sender_access")) {
            if (!map_error && e.sender) {
                if (!e.sender->empty())
                    status = check_mail_access(e, table_arg, *e.sender, found, *e.sender, reply_class::kSender,
                                               def_acl);
                else
                    status = check_access(e, table_arg, params.null_key, false, found, *e.sender,
                                          reply_class::kSender, def_acl);
            }
        } else if (is("reject_unknown_address") || is("reject_unknown_sender_domain")) {
            if (e.sender && !e.sender->empty())
                status = reject_unknown_address(e, *e.sender, *e.sender, reply_class::kSender);
        } else if (is("reject_unverified_sender")) {
            if (e.sender && !e.sender->empty())
                status = reject_unverified_address(e, *e.sender, *e.sender, reply_class::kSender,
                                                   params.unv_from_defer_code, params.unv_from_reject_code,
                                                   params.unv_from_tf_defer_if_permit != 0, params.unv_from_reason);
        } else if (is("reject_non_fqdn_sender")) {
            if (e.sender && !e.sender->empty())
                status = reject_non_fqdn_address(e, *e.sender, *e.sender, reply_class::kSender);
        } else if (is("reject_authenticated_sender_login_mismatch")) {
            if (!params.sasl_enable)
                util::msg_warn("restriction `{}' ignored: no SASL support", name);
            else if (e.sender && !e.sender->empty())
                status = reject_auth_sender_login_mismatch(e, *e.sender, false);
        } else if (is("reject_known_sender_login_mismatch")) {
            if (!params.sasl_enable)
                util::msg_warn("restriction `{}' ignored: no SASL support", name);
            else if (e.sender && !e.sender->empty())
                status = !e.in.sasl_username.empty() ? reject_auth_sender_login_mismatch(e, *e.sender, true)
                                                     : reject_unauth_sender_login_mismatch(e, *e.sender);
        } else if (is("reject_unauthenticated_sender_login_mismatch")) {
            if (!params.sasl_enable)
                util::msg_warn("restriction `{}' ignored: no SASL support", name);
            else if (e.sender && !e.sender->empty())
                status = reject_unauth_sender_login_mismatch(e, *e.sender);
        } else if (map_command("check_sender_ns_access") || map_command("check_sender_mx_access") ||
                   map_command("check_sender_a_access")) {
            if (!map_error && e.sender && !e.sender->empty()) {
                std::string_view type = util::iequals(name, "check_sender_ns_access")   ? "NS"
                                        : util::iequals(name, "check_sender_mx_access") ? "MX"
                                                                                          : "A";
                status = check_server_access(e, table_arg, *e.sender, type, *e.sender, reply_class::kSender, def_acl);
                forbid_allowlist(*e.sender);
            }
        } else if (is("reject_rhsbl_sender")) {
            if (auto* d = rbl_arg(); d && e.sender && !e.sender->empty())
                status = reject_rbl_domain(e, *d, *e.sender, reply_class::kSender);
        } else if (is("reject_unlisted_sender")) {
            if (e.sender && !e.sender->empty()) status = check_sender_rcpt_maps(e, *e.sender);
        } else if (map_command("check_recipient_access")) {
            if (!map_error && e.recipient)
                status = check_mail_access(e, table_arg, *e.recipient, found, *e.recipient, reply_class::kRecipient,
                                           def_acl);
        } else if (is("permit_mx_backup")) {
            if (e.recipient)
                util::msg_warn("restriction permit_mx_backup is not available");
        } else if (is("permit_auth_destination")) {
            if (e.recipient) {
                status = permit_auth_destination(e, *e.recipient);
                if (status == Status::ok) status = acl_permit(e, name, reply_class::kRecipient, *e.recipient, "");
            }
        } else if (is("reject_unauth_destination")) {
            if (e.recipient) status = reject_unauth_destination(e, *e.recipient, params.relay_code, "5.7.1");
        } else if (is("defer_unauth_destination")) {
            if (e.recipient) status = reject_unauth_destination(e, *e.recipient, params.relay_code - 100, "4.7.1");
        } else if (is("check_relay_domains")) {
            if (e.recipient) status = check_relay_domains(e, *e.recipient);
            if (status == Status::ok)
                status = acl_permit(e, name, reply_class::kRecipient, e.recipient.value_or(""), "");
            if (next() && warn_if_reject == 0)
                util::msg_warn("restriction `{}' after `check_relay_domains' is ignored", *next());
        } else if (is("permit_sasl_authenticated")) {
            if (params.sasl_enable && !e.in.sasl_username.empty())
                status = acl_permit(e, name, reply_class::kClient, e.namaddr, "");
        } else if (is("permit_tls_all_clientcerts")) {
            status = permit_tls_clientcerts(e, true);
            if (status == Status::ok) status = acl_permit(e, name, reply_class::kClient, e.namaddr, "");
        } else if (is("permit_tls_clientcerts")) {
            status = permit_tls_clientcerts(e, false);
            if (status == Status::ok) status = acl_permit(e, name, reply_class::kClient, e.namaddr, "");
        } else if (is("reject_unknown_recipient_domain")) {
            if (e.recipient) status = reject_unknown_address(e, *e.recipient, *e.recipient, reply_class::kRecipient);
        } else if (is("reject_non_fqdn_recipient")) {
            if (e.recipient) status = reject_non_fqdn_address(e, *e.recipient, *e.recipient, reply_class::kRecipient);
        } else if (map_command("check_recipient_ns_access") || map_command("check_recipient_mx_access") ||
                   map_command("check_recipient_a_access")) {
            if (!map_error && e.recipient && !e.recipient->empty()) {
                std::string_view type = util::iequals(name, "check_recipient_ns_access")   ? "NS"
                                        : util::iequals(name, "check_recipient_mx_access") ? "MX"
                                                                                             : "A";
                status = check_server_access(e, table_arg, *e.recipient, type, *e.recipient,
                                             reply_class::kRecipient, def_acl);
                forbid_allowlist(*e.recipient);
            }
        } else if (is("reject_rhsbl_recipient")) {
            if (auto* d = rbl_arg(); d && e.recipient)
                status = reject_rbl_domain(e, *d, *e.recipient, reply_class::kRecipient);
        } else if (is("check_recipient_maps") || is("reject_unlisted_recipient")) {
            if (e.recipient && !e.recipient->empty()) status = check_recipient_rcpt_maps(e, *e.recipient);
        } else if (is("reject_multi_recipient_bounce")) {
            if (e.sender && e.sender->empty() && e.in.recipient_count > (e.where != "RCPT" ? 1u : 0u))
                status = reject(e, error_class::kPolicy, params.multi_rcpt_code, "5.5.3",
                                fmt::format("<{}>: {} rejected: Multi-recipient bounce", reply_name, reply_class));
        } else if (is("reject_unverified_recipient")) {
            if (e.recipient && !e.recipient->empty())
                status = reject_unverified_address(e, *e.recipient, *e.recipient, reply_class::kRecipient,
                                                   params.unv_rcpt_defer_code, params.unv_rcpt_reject_code,
                                                   params.unv_rcpt_tf_defer_if_permit != 0, params.unv_rcpt_reason);
        } else if (map_command("check_etrn_access")) {
            if (!map_error && e.etrn)
                status = check_domain_access(e, table_arg, *e.etrn, false, found, *e.etrn, reply_class::kEtrn, def_acl);
        } else if (auto it = classes.find(name); it != classes.end()) {
            status = generic_checks(e, it->second, reply_name, reply_class, def_acl);
        } else {
            util::msg_warn("unknown smtpd restriction: \"{}\"", name);
            status = server_error(e);
        }
        if (map_error) status = server_error(e);
        if (implicit_table) {
            // The reference re-reads the table word as the map argument.
        }

        if (warn_if_reject >= recursion) warn_if_reject = 0;
        if (status != Status::dunno) break;
        if (defer_if_permit.active && defer_if_reject.active) break;
    }
    recursion = saved_recursion;
    if (warn_if_reject >= recursion) warn_if_reject = 0;
    return status;
}

}  // namespace pf::smtpd
