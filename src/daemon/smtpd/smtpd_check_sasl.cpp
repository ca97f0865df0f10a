// Sender/login checks of authenticated sessions:
// reject_authenticated_sender_login_mismatch (the MAIL FROM address must
// list the SASL login name in smtpd_sender_login_maps),
// reject_unauthenticated_sender_login_mismatch (an address listed there
// needs a login) and reject_known_sender_login_mismatch, with the
// reference's replies ("553 5.7.1 <a>: Sender address rejected: not owned
// by user u", "... not logged in").
//
// Trust: the sender comes from the network; the login name from SASL.
#include "daemon/smtpd/smtpd_check_impl.h"

#include "mail/mail_addr_find.h"
#include "util/brace_tokens.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::smtpd {

static mail::AddrFindResult find_login(SmtpdCheck::Impl& m, std::string_view address) {
    mail::AddrFindContext ctx;
    ctx.recipient_delimiter = m.params.recipient_delimiter;
    ctx.myorigin = m.params.myorigin;
    ctx.is_local = [&m](std::string_view domain) {
        return m.mydestination && m.mydestination->match(domain) == mail::DomainMatch::yes;
    };
    return mail::mail_addr_find(*m.sender_login_maps, address, ctx);
}

Status SmtpdCheck::Impl::reject_auth_sender_login_mismatch(Eval& e, std::string_view sender, bool allow_unknown) {
    if (!sender_login_maps || sender_login_maps->empty() || e.in.sasl_username.empty()) return Status::dunno;
    auto reply = resolve(e.recipient.value_or(""), sender);
    if (!reply) return dict_retry(e, sender);
    auto r = find_login(*this, reply->recipient);
    if (r.status == mail::AddrFindResult::Status::error) return dict_retry(e, sender);
    bool found = false;
    if (r.status == mail::AddrFindResult::Status::found) {
        for (const auto& name : util::split_tokens(r.value, " \t\r\n,"))
            if (util::iequals(name, e.in.sasl_username)) found = true;
    } else if (allow_unknown) {
        return Status::dunno;
    }
    if (!found)
        return reject(e, error_class::kPolicy, 553, "5.7.1",
                      fmt::format("<{}>: Sender address rejected: not owned by user {}", sender, e.in.sasl_username));
    return Status::dunno;
}

Status SmtpdCheck::Impl::reject_unauth_sender_login_mismatch(Eval& e, std::string_view sender) {
    if (!sender_login_maps || sender_login_maps->empty() || !e.in.sasl_username.empty()) return Status::dunno;
    auto reply = resolve(e.recipient.value_or(""), sender);
    if (!reply) return dict_retry(e, sender);
    auto r = find_login(*this, reply->recipient);
    if (r.status == mail::AddrFindResult::Status::error) return dict_retry(e, sender);
    if (r.status == mail::AddrFindResult::Status::found)
        return reject(e, error_class::kPolicy, 553, "5.7.1",
                      fmt::format("<{}>: Sender address rejected: not logged in", sender));
    return Status::dunno;
}

}  // namespace pf::smtpd
