// smtpd's restriction engine: start-up (reading the restriction lists,
// restriction classes and tables, and the reference's start-up checks), the
// stages the protocol engine calls (smtpd_check.h) with the reference's
// order and carry-over between them: with smtpd_delay_reject the client,
// HELO and sender lists run again at each RCPT; a defer_if_permit found at
// one stage carries to the later ones; the implicit
// smtpd_reject_unlisted_{sender,recipient} checks run last.
//
// Trust: see smtpd_check.h.
#include "daemon/smtpd/smtpd_check.h"

#include "config/mail_params.h"
#include "daemon/smtpd/smtpd_check_impl.h"
#include "mail/address_surrogate.h"
#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>

#include <fmt/core.h>

#include <stdexcept>

namespace pf::smtpd {

namespace {

int get_int(const config::Config& c, std::string_view name, int def) {
    auto v = config::parse_int_value(c.get(name), 1LL << 31);
    return v ? static_cast<int>(*v) : def;
}

bool get_bool(const config::Config& c, std::string_view name, bool def) {
    auto v = config::parse_bool_value(c.get(name));
    return v ? *v : def;
}

}  // namespace

SmtpdCheck::Impl::Impl(const config::Config& config, CheckServices svc) : services(std::move(svc)) {
    auto& p = params;
    p.delay_reject = get_bool(config, "smtpd_delay_reject", true);
    p.soft_bounce = get_bool(config, "soft_bounce", false);
    p.allow_untrusted_routing = get_bool(config, "allow_untrusted_routing", false);
    p.relay_before_rcpt_checks = get_bool(config, "smtpd_relay_before_recipient_restrictions", true);
    p.reject_unlisted_sender = get_bool(config, "smtpd_reject_unlisted_sender", false);
    p.reject_unlisted_recipient = get_bool(config, "smtpd_reject_unlisted_recipient", true);
    p.show_unknown_rcpt_table = get_bool(config, "show_user_unknown_table_name", true);
    p.smtputf8_enable = get_bool(config, "smtputf8_enable", false);
    p.sasl_enable = get_bool(config, "smtpd_sasl_auth_enable", false);
    p.tls_ask_ccert = get_bool(config, "smtpd_tls_ask_ccert", false);
    p.reject_code = get_int(config, "reject_code", 554);
    p.defer_code = get_int(config, "defer_code", 450);
    p.relay_code = get_int(config, "relay_domains_reject_code", 554);
    p.map_reject_code = get_int(config, "access_map_reject_code", 554);
    p.map_defer_code = get_int(config, "access_map_defer_code", 450);
    p.bad_name_code = get_int(config, "invalid_hostname_reject_code", 501);
    p.non_fqdn_code = get_int(config, "non_fqdn_reject_code", 504);
    p.unknown_client_code = get_int(config, "unknown_client_reject_code", 450);
    p.unknown_name_code = get_int(config, "unknown_hostname_reject_code", 450);
    p.unknown_addr_code = get_int(config, "unknown_address_reject_code", 450);
    p.plaintext_code = get_int(config, "plaintext_reject_code", 450);
    p.multi_rcpt_code = get_int(config, "multi_recipient_bounce_reject_code", 550);
    p.local_rcpt_code = get_int(config, "unknown_local_recipient_reject_code", 550);
    p.virtual_mailbox_code = get_int(config, "unknown_virtual_mailbox_reject_code", 550);
    p.virtual_alias_code = get_int(config, "unknown_virtual_alias_reject_code", 550);
    p.relay_rcpt_code = get_int(config, "unknown_relay_recipient_reject_code", 550);
    p.message_size_limit = config::parse_int_value(config.get("message_size_limit"), 1LL << 62).value_or(10240000);
    p.null_key = config.get("smtpd_null_access_lookup_key");
    p.double_bounce_sender = config.get("double_bounce_sender");
    p.recipient_delimiter = config.get("recipient_delimiter");
    p.myorigin = config.get("myorigin");
    p.local_rcpt_maps_text = config.get("local_recipient_maps");
    p.virtual_mailbox_maps_text = config.get("virtual_mailbox_maps");
    p.relay_rcpt_maps_text = config.get("relay_recipient_maps");
    p.policy_default_action = config.get("smtpd_policy_service_default_action");
    p.policy_context = config.get("smtpd_policy_service_policy_context");
    p.policy_timeout = config::parse_time_value(config.get("smtpd_policy_service_timeout"), 's').value_or(100);
    p.policy_try_limit = get_int(config, "smtpd_policy_service_try_limit", 2);
    p.policy_retry_delay =
        config::parse_time_value(config.get("smtpd_policy_service_retry_delay"), 's').value_or(1);
    p.policy_max_idle = config::parse_time_value(config.get("smtpd_policy_service_max_idle"), 's').value_or(300);
    p.policy_max_ttl = config::parse_time_value(config.get("smtpd_policy_service_max_ttl"), 's').value_or(1000);
    p.policy_request_limit = get_int(config, "smtpd_policy_service_request_limit", 0);
    p.maps_rbl_domains = config.get("maps_rbl_domains");
    p.rbl_reply_maps_text = config.get("rbl_reply_maps");
    // The template's $rbl_* names are expanded per reply, not as parameters.
    if (auto raw = config.raw_value("default_rbl_reply")) p.default_rbl_reply = *raw;
    p.maps_rbl_code = get_int(config, "maps_rbl_reject_code", 554);
    if (auto stress = config.raw_value("stress")) p.stress = config.expand_text(*stress).text;
    p.acl_permit_log = util::split_braced_list(config.get("smtpd_log_access_permit_actions"));
    p.access_parent_style =
        mail::parent_domain_style(config.get("parent_domain_matches_subdomains"), "smtpd_access_maps");
    p.queue_directory = config.get("queue_directory");
    p.unv_from_reject_code = get_int(config, "unverified_sender_reject_code", 450);
    p.unv_from_defer_code = get_int(config, "unverified_sender_defer_code", 450);
    p.unv_rcpt_reject_code = get_int(config, "unverified_recipient_reject_code", 450);
    p.unv_rcpt_defer_code = get_int(config, "unverified_recipient_defer_code", 450);
    p.unv_from_reason = config.get("unverified_sender_reject_reason");
    p.unv_rcpt_reason = config.get("unverified_recipient_reject_reason");
    p.verify_poll_count = get_int(config, "address_verify_poll_count", 3);
    p.verify_poll_delay = config::parse_time_value(config.get("address_verify_poll_delay"), 's').value_or(3);
    p.verify_service = config.get("address_verify_service_name");
    for (auto [name, flag] : {std::pair{"unknown_helo_hostname_tempfail_action", &p.unknown_name_tf_defer_if_permit},
                              std::pair{"unknown_address_tempfail_action", &p.unknown_addr_tf_defer_if_permit},
                              std::pair{"unverified_sender_tempfail_action", &p.unv_from_tf_defer_if_permit},
                              std::pair{"unverified_recipient_tempfail_action", &p.unv_rcpt_tf_defer_if_permit}}) {
        std::string v = config.get(name);
        if (util::iequals(v, "defer_if_permit"))
            *flag = 1;
        else if (util::iequals(v, "defer"))
            *flag = 0;
        else
            throw std::runtime_error(fmt::format("bad configuration: {} = {}", name, v));
    }

    std::string parent = config.get("parent_domain_matches_subdomains");
    mynetworks = std::make_unique<mail::NamadrList>("mynetworks", config.get("mynetworks"),
                                              mail::parent_domain_style(parent, "mynetworks"));
    relay_domains = std::make_unique<mail::DomainList>("relay_domains", config.get("relay_domains"),
                                                       mail::DomainList::Style::hostname,
                                                       mail::parent_domain_style(parent, "relay_domains"));
    mydestination = std::make_unique<mail::DomainList>("mydestination", config.get("mydestination"),
                                                       mail::DomainList::Style::exact, false);

    const dict::Flags flags = dict::kLock | dict::kFoldFixed | dict::kUtf8Request;
    auto open_maps = [&](std::string_view title, std::string_view value) {
        std::vector<dict::DictPtr> list;
        for (const auto& word : util::split_braced_list(value)) {
            auto t = mail::open_table_or_surrogate(word, O_RDONLY, flags);
            if (!t) throw std::runtime_error(t.error());
            list.push_back(std::move(*t));
        }
        return std::make_shared<mail::Maps>(mail::Maps::from_tables(std::string(title), std::move(list)));
    };
    auto parse_list = [&](std::string_view value) {
        Restrictions list = parse_restrictions(value);
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string& w = list[i];
            if (i > 0 && util::iequals(list[i - 1], "check_policy_service")) continue;
            if ((!w.empty() && w.front() == '{') || w.find(':') == std::string::npos) continue;
            if (!tables.count(w)) tables.emplace(w, open_maps(w, w));
        }
        return list;
    };
    client_restrictions = parse_list(config.get("smtpd_client_restrictions"));
    helo_restrictions = parse_list(config.get("smtpd_helo_restrictions"));
    mail_restrictions = parse_list(config.get("smtpd_sender_restrictions"));
    relay_restrictions = parse_list(config.get("smtpd_relay_restrictions"));
    rcpt_restrictions = parse_list(config.get("smtpd_recipient_restrictions"));
    etrn_restrictions = parse_list(config.get("smtpd_etrn_restrictions"));
    data_restrictions = parse_list(config.get("smtpd_data_restrictions"));
    eod_restrictions = parse_list(config.get("smtpd_end_of_data_restrictions"));

    const std::string class_names = config.get("smtpd_restriction_classes");
    for (const auto& name : util::split_tokens(class_names, " \t\r\n,")) {
        auto raw = config.raw_value(name);
        std::string value = raw ? config.expand_text(*raw).text : std::string();
        if (value.empty()) throw std::runtime_error(fmt::format("restriction class `{}' needs a definition", name));
        classes[std::string(name)] = parse_list(value);
    }
    classes["reject_sender_login_mismatch"] =
        parse_list("reject_authenticated_sender_login_mismatch reject_unauthenticated_sender_login_mismatch");

    // The relay rules must end in something that refuses by default.
    static constexpr std::string_view required[] = {"reject_unauth_destination", "defer_unauth_destination", "reject",
                                                    "defer", "defer_if_permit", "check_relay_domains"};
    std::function<bool(const Restrictions&, int)> has_required = [&](const Restrictions& list, int depth) {
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (util::iequals(list[i], "warn_if_reject") && i + 1 < list.size()) {
                ++i;
                continue;
            }
            if (util::iequals(list[i], "permit")) {
                if (i + 1 < list.size()) util::msg_warn("restriction `{}' after `{}' is ignored", list[i + 1], list[i]);
                return false;
            }
            for (auto r : required)
                if (util::iequals(list[i], r)) return true;
            if (auto it = classes.find(list[i]); it != classes.end() && depth < 100)
                if (has_required(it->second, depth + 1)) return true;
        }
        return false;
    };
    if (!has_required(rcpt_restrictions, 0) && !has_required(relay_restrictions, 0))
        throw std::runtime_error(
            "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working "
            "instance of: reject_unauth_destination, defer_unauth_destination, reject, defer, defer_if_permit or "
            "check_relay_domains");

    local_rcpt_maps = open_maps("local_recipient_maps", p.local_rcpt_maps_text);
    virtual_mailbox_maps = open_maps("virtual_mailbox_maps", p.virtual_mailbox_maps_text);
    relay_rcpt_maps = open_maps("relay_recipient_maps", p.relay_rcpt_maps_text);
    rcpt_canonical_maps = open_maps("recipient_canonical_maps", config.get("recipient_canonical_maps"));
    sender_canonical_maps = open_maps("sender_canonical_maps", config.get("sender_canonical_maps"));
    canonical_maps = open_maps("canonical_maps", config.get("canonical_maps"));
    virtual_alias_maps = open_maps("virtual_alias_maps", config.get("virtual_alias_maps"));
    relay_ccerts = open_maps("relay_clientcerts", config.get("relay_clientcerts"));
    sender_login_maps = open_maps("smtpd_sender_login_maps", config.get("smtpd_sender_login_maps"));
    rbl_reply_maps = open_maps("rbl_reply_maps", p.rbl_reply_maps_text);
    // These are table lists in the reference (the access tables above are
    // single tables): a lookup error there is also logged as
    // "<type>:<name> lookup error for "<key>"".
    for (auto* maps : {&local_rcpt_maps, &virtual_mailbox_maps, &relay_rcpt_maps, &rcpt_canonical_maps,
                       &sender_canonical_maps, &canonical_maps, &virtual_alias_maps, &relay_ccerts,
                       &sender_login_maps, &rbl_reply_maps})
        (*maps)->set_warn_errors(true);

    inet_interfaces = config.get("inet_interfaces");
    inet_protocols = config.get("inet_protocols");
    local_rewrite_clients = parse_restrictions(config.get("local_header_rewrite_clients"));
    for (const auto& w : local_rewrite_clients)
        if (w.find(':') != std::string::npos && !tables.count(w)) tables.emplace(w, open_maps(w, w));

    install_default_services();
}

std::optional<CheckServices::Resolved> SmtpdCheck::Impl::resolve(std::string_view sender, std::string_view address) {
    return services.resolve(sender, address);
}

void SmtpdCheck::Impl::reset_check() {
    recursion = 0;
    warn_if_reject = 0;
    defer_if_reject.active = false;
}

Eval SmtpdCheck::Impl::make_eval(const CheckState& in, CheckResult& out, std::string_view where) const {
    Eval e{in, out, in.where.empty() ? std::string(where) : in.where, fmt::format("{}[{}]", in.client_name, in.client_addr),
           {}, {}, {}, {}};
    if (!in.helo_name.empty()) e.helo = in.helo_name;
    if (in.has_sender) e.sender = in.sender;
    return e;
}

CheckResult SmtpdCheck::Impl::finish(Eval& e, Status status) {
    if (status == Status::reject) e.out.reply = error_text;
    if (status != Status::reject) e.out.error_class.clear();
    if (status == Status::hangup) e.out.hangup = true;
    return std::move(e.out);
}

Status SmtpdCheck::Impl::run_client(Eval& e) {
    if (e.in.client_addr.empty()) return Status::dunno;
    defer_if_permit.active = false;
    reset_check();
    Status s = Status::dunno;
    if (!client_restrictions.empty())
        s = generic_checks(e, client_restrictions, e.namaddr, reply_class::kClient, "check_client_access");
    defer_if_permit_client = defer_if_permit.active;
    return s;
}

Status SmtpdCheck::Impl::run_helo(Eval& e) {
    if (!e.helo) return Status::dunno;
    defer_if_permit.active = defer_if_permit_client;
    reset_check();
    Status s = Status::dunno;
    if (!helo_restrictions.empty())
        s = generic_checks(e, helo_restrictions, *e.helo, reply_class::kHelo, "check_helo_access");
    defer_if_permit_helo = defer_if_permit.active;
    return s;
}

Status SmtpdCheck::Impl::run_mail(Eval& e) {
    if (!e.sender) return Status::dunno;
    defer_if_permit.active = defer_if_permit_client || defer_if_permit_helo;
    sender_rcptmap_checked = false;
    reset_check();
    Status s = Status::dunno;
    if (!mail_restrictions.empty())
        s = generic_checks(e, mail_restrictions, *e.sender, reply_class::kSender, "check_sender_access");
    defer_if_permit_sender = defer_if_permit.active;
    if (params.reject_unlisted_sender && s != Status::reject && s != Status::hangup && !sender_rcptmap_checked &&
        !discard && !e.sender->empty())
        s = check_sender_rcpt_maps(e, *e.sender);
    return s;
}

// ---- public interface

SmtpdCheck::SmtpdCheck(const config::Config& config, CheckServices services)
    : impl_(std::make_unique<Impl>(config, std::move(services))) {}

SmtpdCheck::~SmtpdCheck() = default;

void SmtpdCheck::begin_session() {
    Impl& m = *impl_;
    m.defer_if_permit = {};
    m.defer_if_reject = {};
    m.defer_if_permit_client = m.defer_if_permit_helo = m.defer_if_permit_sender = false;
    m.sender_rcptmap_checked = m.recipient_rcptmap_checked = false;
    reset_transaction();
}

void SmtpdCheck::end_session() { impl_->close_policy_connections(); }

void SmtpdCheck::reset_transaction() {
    impl_->discard = false;
    impl_->actions = {};
}

CheckResult SmtpdCheck::check_rewrite(const CheckState& state, std::string& context) {
    Impl& m = *impl_;
    CheckResult out;
    Eval e = m.make_eval(state, out, "MAIL");
    e.sender = state.sender;
    const Restrictions& list = m.local_rewrite_clients;
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::string_view name = list[i];
        std::string_view table;
        if (name.find(':') != std::string_view::npos) {
            table = name;
            name = "check_address_map";
        } else if (util::iequals(name, "check_address_map")) {
            if (i + 1 >= list.size() || list[i + 1].find(':') == std::string::npos) {
                util::msg_warn("restriction check_address_map: bad argument \"{}\": need maptype:mapname",
                               i + 1 < list.size() ? list[i + 1] : list[i]);
                m.server_error(e);
                return m.finish(e, Status::reject);
            }
            table = list[++i];
        }
        Status s = Status::dunno;
        bool retry = false, error = false;
        if (util::iequals(name, "permit_inet_interfaces")) {
            s = m.own_inet_address(state.peer_addr.empty() ? state.client_addr : state.peer_addr) ? Status::ok
                                                                                                     : Status::dunno;
        } else if (util::iequals(name, "permit_mynetworks")) {
            auto r = m.mynetworks->match(state.client_name, state.client_addr);
            s = r == mail::NamadrList::Result::yes ? Status::ok : Status::dunno;
            retry = r == mail::NamadrList::Result::error;
        } else if (util::iequals(name, "check_address_map")) {
            auto r = m.table(table)->find(state.client_addr, false);
            s = r.is_found() ? Status::ok : Status::dunno;
            retry = r.is_error() && r.error().kind == dict::Error::Kind::retry;
            error = r.is_error() && !retry;
        } else if (util::iequals(name, "permit_sasl_authenticated")) {
            s = m.params.sasl_enable && !state.sasl_username.empty() ? Status::ok : Status::dunno;
        } else if (util::iequals(name, "permit_tls_all_clientcerts") || util::iequals(name, "permit_tls_clientcerts")) {
            s = m.permit_tls_clientcerts(e, util::iequals(name, "permit_tls_all_clientcerts"));
        } else {
            util::msg_warn("parameter local_header_rewrite_clients: invalid request: {}", name);
            continue;
        }
        if (retry || error) {
            out.reply = retry ? "451 4.3.0 Temporary lookup error" : "451 4.3.5 Server configuration error";
            out.error_class = retry ? "resource" : "software";
            m.log_whatsup(e, "reject", out.reply);
            return out;
        }
        if (s == Status::ok) {
            context = "local";
            return out;
        }
    }
    context = "remote";
    return out;
}

const MessageActions& SmtpdCheck::actions() const { return impl_->actions; }
bool SmtpdCheck::delay_reject() const { return impl_->params.delay_reject; }

CheckResult SmtpdCheck::check_client(const CheckState& state) {
    CheckResult out;
    if (impl_->params.delay_reject) return out;
    Eval e = impl_->make_eval(state, out, "CONNECT");
    e.helo.reset();
    e.sender.reset();
    return impl_->finish(e, impl_->run_client(e));
}

CheckResult SmtpdCheck::check_helo(const CheckState& state) {
    CheckResult out;
    if (impl_->params.delay_reject) return out;
    Eval e = impl_->make_eval(state, out, "HELO");
    return impl_->finish(e, impl_->run_helo(e));
}

CheckResult SmtpdCheck::check_mail(const CheckState& state) {
    CheckResult out;
    if (impl_->params.delay_reject) return out;
    Eval e = impl_->make_eval(state, out, "MAIL");
    e.sender = state.sender;
    Status s = impl_->run_mail(e);
    if (s == Status::reject) reset_transaction();
    return impl_->finish(e, s);
}

static CheckResult rcpt_like(SmtpdCheck::Impl& m, const CheckState& state, std::string_view where) {
    CheckResult out;
    if (util::iequals(state.recipient, "postmaster")) return out;
    Eval e = m.make_eval(state, out, where);
    e.recipient = state.recipient;
    m.recipient_rcptmap_checked = false;
    if (m.params.delay_reject) {
        for (auto stage : {&SmtpdCheck::Impl::run_client, &SmtpdCheck::Impl::run_helo, &SmtpdCheck::Impl::run_mail}) {
            Status s = (m.*stage)(e);
            if (s == Status::reject || s == Status::hangup) return m.finish(e, s);
        }
    }
    m.defer_if_permit.active = m.defer_if_permit_sender;
    m.reset_check();
    const Restrictions* lists[2];
    std::size_t rcpt_index = m.params.relay_before_rcpt_checks ? 1 : 0;
    lists[rcpt_index] = &m.rcpt_restrictions;
    lists[1 - rcpt_index] = &m.relay_restrictions;
    Status s = Status::dunno;
    for (const Restrictions* list : lists) {
        s = Status::dunno;
        if (!list->empty())
            s = m.generic_checks(e, *list, *e.recipient, reply_class::kRecipient, "check_recipient_access");
        if (s == Status::reject || s == Status::hangup) break;
    }
    if (s != Status::reject && s != Status::hangup && m.defer_if_permit.active) {
        Deferral d = m.defer_if_permit;
        s = m.reject(e, d.error_class, d.code, d.dsn, d.reason);
    }
    if (m.params.reject_unlisted_recipient && s != Status::reject && s != Status::hangup &&
        !m.recipient_rcptmap_checked && !m.discard)
        s = m.check_recipient_rcpt_maps(e, *e.recipient);
    return m.finish(e, s);
}

CheckResult SmtpdCheck::check_rcpt(const CheckState& state) { return rcpt_like(*impl_, state, "RCPT"); }
CheckResult SmtpdCheck::check_vrfy(const CheckState& state) { return rcpt_like(*impl_, state, "VRFY"); }

static CheckResult data_like(SmtpdCheck::Impl& m, const CheckState& state, std::string_view where,
                             const Restrictions& list, std::string_view reply_name, std::string_view cls) {
    CheckResult out;
    Eval e = m.make_eval(state, out, where);
    if (state.recipient_count <= 1 && !state.recipient.empty()) e.recipient = state.recipient;
    m.defer_if_permit.active = false;
    m.reset_check();
    Status s = Status::dunno;
    if (!list.empty()) s = m.generic_checks(e, list, reply_name, cls, "");
    if (s != Status::reject && s != Status::hangup && m.defer_if_permit.active) {
        Deferral d = m.defer_if_permit;
        s = m.reject(e, d.error_class, d.code, d.dsn, d.reason);
    }
    return m.finish(e, s);
}

CheckResult SmtpdCheck::check_data(const CheckState& state) {
    return data_like(*impl_, state, "DATA", impl_->data_restrictions, "DATA", reply_class::kData);
}

CheckResult SmtpdCheck::check_eod(const CheckState& state) {
    return data_like(*impl_, state, "END-OF-MESSAGE", impl_->eod_restrictions, "END-OF-MESSAGE", reply_class::kEod);
}

CheckResult SmtpdCheck::check_etrn(const CheckState& state) {
    Impl& m = *impl_;
    CheckResult out;
    Eval e = m.make_eval(state, out, "ETRN");
    e.etrn = state.etrn_domain;
    if (m.params.delay_reject) {
        Status s = m.run_client(e);
        if (s == Status::reject || s == Status::hangup) return m.finish(e, s);
        s = m.run_helo(e);
        if (s == Status::reject || s == Status::hangup) return m.finish(e, s);
    }
    m.defer_if_permit.active = m.defer_if_permit_client || m.defer_if_permit_helo;
    m.reset_check();
    Status s = Status::dunno;
    if (!m.etrn_restrictions.empty())
        s = m.generic_checks(e, m.etrn_restrictions, *e.etrn, reply_class::kEtrn, "check_etrn_access");
    if (s != Status::reject && s != Status::hangup && m.defer_if_permit.active) {
        Deferral d = m.defer_if_permit;
        s = m.reject(e, d.error_class, d.code, d.dsn, d.reason);
    }
    return m.finish(e, s);
}

CheckResult SmtpdCheck::check_size(const CheckState& state) {
    Impl& m = *impl_;
    CheckResult out;
    Eval e = m.make_eval(state, out, "MAIL");
    e.sender = state.sender;
    m.reset_check();
    Status s = Status::dunno;
    if (m.params.message_size_limit > 0 && static_cast<long long>(state.message_size) > m.params.message_size_limit)
        s = m.reject(e, error_class::kPolicy, 552, "5.3.4", "Message size exceeds fixed limit");
    return m.finish(e, s);
}

}  // namespace pf::smtpd
