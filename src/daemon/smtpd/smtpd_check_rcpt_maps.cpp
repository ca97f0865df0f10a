// reject_unlisted_recipient / reject_unlisted_sender (and the implicit
// smtpd_reject_unlisted_* checks): an address in a local, virtual mailbox
// or relay domain must be listed in local_recipient_maps,
// virtual_mailbox_maps or relay_recipient_maps, unless a canonical or
// virtual alias table knows it; an address that trivial-rewrite resolves
// to the error or retry transport is refused with that transport's text.
// Replies and codes are the reference's ("User unknown in local recipient
// table", unknown_local_recipient_reject_code, ...).
//
// Trust: addresses come from the network; tables from the configuration.
#include "daemon/smtpd/smtpd_check_impl.h"

#include "ipc/deliver_dsn.h"
#include "ipc/services.h"
#include "mail/mail_addr_find.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::smtpd {

Status SmtpdCheck::Impl::check_recipient_rcpt_maps(Eval& e, std::string_view recipient) {
    if (recipient_rcptmap_checked) return Status::dunno;
    if (warn_if_reject == 0) recipient_rcptmap_checked = true;
    return check_rcpt_maps(e, e.sender.value_or(""), recipient, reply_class::kRecipient);
}

Status SmtpdCheck::Impl::check_sender_rcpt_maps(Eval& e, std::string_view sender) {
    if (sender_rcptmap_checked) return Status::dunno;
    if (warn_if_reject == 0) sender_rcptmap_checked = true;
    return check_rcpt_maps(e, e.recipient.value_or(""), sender, reply_class::kSender);
}

Status SmtpdCheck::Impl::check_rcpt_maps(Eval& e, std::string_view sender, std::string_view recipient,
                                         std::string_view cls) {
    auto reply = resolve(sender, recipient);
    if (!reply) return dict_retry(e, recipient);
    bool is_sender = cls == reply_class::kSender;

    mail::AddrFindContext ctx;
    ctx.recipient_delimiter = params.recipient_delimiter;
    ctx.myorigin = params.myorigin;
    ctx.is_local = [this](std::string_view domain) {
        return mydestination && mydestination->match(domain) == mail::DomainMatch::yes;
    };
    // 1: found, 0: not found, -1: error (reply already made in status).
    Status status = Status::dunno;
    auto match = [&](const std::shared_ptr<mail::Maps>& maps) -> int {
        if (!maps || maps->empty()) return 0;
        auto r = mail::mail_addr_find(*maps, reply->recipient, ctx);
        if (r.status == mail::AddrFindResult::Status::found) return 1;
        if (r.status == mail::AddrFindResult::Status::error) {
            status = dict_retry(e, recipient);
            return -1;
        }
        return 0;
    };
    for (const auto* maps : {&rcpt_canonical_maps, is_sender ? &sender_canonical_maps : nullptr, &canonical_maps,
                             &virtual_alias_maps}) {
        if (!maps) continue;
        int m = match(*maps);
        if (m > 0) return Status::dunno;
        if (m < 0) return status;
    }
    if (reply->transport == "error" || reply->transport == "retry") {
        bool error = reply->transport == "error";
        auto dp = ipc::dsn_split(error ? (is_sender ? "5.1.0" : "5.1.1") : (is_sender ? "4.1.0" : "4.1.1"),
                                 reply->nexthop);
        std::string dsn = smtpd_dsn_fix(dp.status, cls, e.out.log);
        int code = error ? ((reply->flags & ipc::kResolveClassAlias) ? params.virtual_alias_code : 550) : 450;
        return reject(e, error_class::kBounce, code, dsn,
                      fmt::format("<{}>: {} rejected: {}", recipient, cls, dp.text));
    }

    auto match_left = [&](std::string_view left) {
        const std::string& r = reply->recipient;
        return r.size() > left.size() && util::iequals(std::string_view(r).substr(0, left.size()), left) &&
               r[left.size()] == '@';
    };
    std::string_view dsn = is_sender ? "5.1.0" : "5.1.1";
    unsigned cls_bits = reply->flags & 0xff00u;
    if (cls_bits == ipc::kResolveClassLocal) {
        if (!params.local_rcpt_maps_text.empty() && !match_left(params.double_bounce_sender) &&
            !match_left("postmaster") && !match_left("MAILER-DAEMON")) {
            int m = match(local_rcpt_maps);
            if (m < 0) return status;
            if (m == 0)
                return reject(e, error_class::kBounce, params.local_rcpt_code, dsn,
                              fmt::format("<{}>: {} rejected: User unknown{}", recipient, cls,
                                          params.show_unknown_rcpt_table ? " in local recipient table" : ""));
        }
    } else if (cls_bits == ipc::kResolveClassVirtual) {
        if (!params.virtual_mailbox_maps_text.empty()) {
            int m = match(virtual_mailbox_maps);
            if (m < 0) return status;
            if (m == 0)
                return reject(e, error_class::kBounce, params.virtual_mailbox_code, dsn,
                              fmt::format("<{}>: {} rejected: User unknown{}", recipient, cls,
                                          params.show_unknown_rcpt_table ? " in virtual mailbox table" : ""));
        }
    } else if (cls_bits == ipc::kResolveClassRelay) {
        if (!params.relay_rcpt_maps_text.empty()) {
            int m = match(relay_rcpt_maps);
            if (m < 0) return status;
            if (m == 0)
                return reject(e, error_class::kBounce, params.relay_rcpt_code, dsn,
                              fmt::format("<{}>: {} rejected: User unknown{}", recipient, cls,
                                          params.show_unknown_rcpt_table ? " in relay recipient table" : ""));
        }
    }
    return Status::dunno;
}

}  // namespace pf::smtpd
