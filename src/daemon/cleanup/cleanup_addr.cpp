// Envelope addresses in cleanup, as the reference handles them: every
// address is rewritten by trivial-rewrite in the local context (a sender
// equal to MAILER-DAEMON@$myorigin becomes the null sender), then
// sender/recipient/common canonical maps and masquerading apply as their
// *_classes say, virtual aliases expand each recipient (recursion and size
// limits, an address that expands to itself kept once; an MTA address
// probe whose recipient expands to several is answered "deliverable" here
// and not probed further), duplicates are
// dropped (with enable_original_recipient: only when the original
// recipient and DSN data match too), and the *_bcc_maps add recipients.
#include "daemon/cleanup/cleanup_session.h"

#include "ipc/services.h"
#include "mail/address_fold.h"
#include "mail/address_quote.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <fmt/format.h>

#include <cstdlib>

namespace pf::cleanup {

namespace rec = queue::rec;
using util::msg_warn;

std::string CleanupSession::rewrite_internal(std::string_view context, std::string_view address) {
    if (!rewriter_) return std::string(address);
    auto r = rewriter_(context, address);
    if (!r) {
        msg_warn("{}: address rewriting failed for {}: {} -- message not accepted, try again later", queue_id_,
                 address, r.error());
        errs_ |= ipc::kCleanupStatWrite;
        return std::string(address);
    }
    return *r;
}

bool CleanupSession::map11(std::string& address, const mail::Maps& maps, bool propagate) {
    // Lookups use the external (quoted) form, as the reference's do.
    std::string ext = mail::quote_822_local(address);
    bool changed = false;
    for (int count = 0; count < 10; ++count) {
        bool error = false;
        auto result = mail::mail_addr_map(
            maps, ext, propagate, s_.find_ctx,
            [this](const std::string& a) {
                if (a.find('@') != std::string::npos) return a;
                return mail::quote_822_local(rewrite_internal("local", mail::unquote_822_local(a)));
            },
            &error);
        if (result) {
            if (result->size() > 1) msg_warn("{}: multi-valued {} entry for {}", queue_id_, maps.title(), ext);
            std::string saved = ext;
            changed |= result->front() != ext;
            ext = result->front();
            if (util::iequals(saved, ext)) break;
        } else if (error) {
            msg_warn("{}: {} map lookup problem for {} -- message not accepted, try again later", queue_id_,
                     maps.title(), ext);
            errs_ |= ipc::kCleanupStatWrite;
            break;
        } else {
            break;
        }
        if (count == 9)
            msg_warn("{}: unreasonable {} map nesting for {} -- message not accepted, try again later", queue_id_,
                     maps.title(), ext);
    }
    address = mail::unquote_822_local(ext);
    return changed;
}

bool CleanupSession::apply_maps(std::string& address, unsigned address_class) {
    if (!(flags_ & ipc::kCleanupMapOk)) return false;
    bool changed = false;
    const bool sender = (address_class & (kEnvFrom | kHdrFrom)) != 0;
    if (sender && s_.sender_canonical_maps && (s_.sender_canonical_classes & address_class))
        changed |= map11(address, *s_.sender_canonical_maps, s_.propagate_canonical);
    if (!sender && s_.recipient_canonical_maps && (s_.recipient_canonical_classes & address_class))
        changed |= map11(address, *s_.recipient_canonical_maps, s_.propagate_canonical);
    if (s_.canonical_maps && (s_.canonical_classes & address_class))
        changed |= map11(address, *s_.canonical_maps, s_.propagate_canonical);
    if (s_.masquerade && (s_.masquerade_classes & address_class) && !masquerade_excluded(address))
        changed |= s_.masquerade->apply(address);
    return changed;
}

void CleanupSession::detect_utf8(std::string_view text, int what) {
    if (!s_.smtputf8_enable || text.empty() || util::all_ascii(text)) return;
    // Addresses must be valid UTF-8; any non-ASCII header counts.
    if (what != kUtf8Header && !util::valid_utf8(text)) return;
    smtputf8_ |= what;
    if (flags_ & ipc::kCleanupAutoUtf8) smtputf8_ |= kUtf8Requested;
}

bool CleanupSession::masquerade_excluded(const std::string& address) {
    // The local-part of an address with a domain, looked up in
    // masquerade_exceptions; a table error defers the message, and the
    // address is then left alone as the reference's does.
    if (!s_.masquerade_exceptions) return false;
    auto at = address.rfind('@');
    if (at == std::string::npos) return false;
    mail::DomainMatch m = s_.masquerade_exceptions->match(std::string_view(address).substr(0, at));
    if (m == mail::DomainMatch::error) {
        util::msg_info("{}: masquerade_exceptions map lookup problem -- message not accepted, try again later", queue_id_);
        errs_ |= ipc::kCleanupStatWrite;
    }
    return m == mail::DomainMatch::yes;
}

void CleanupSession::addr_sender(std::string_view address) {
    std::string clean = rewrite_internal("local", address);
    static constexpr std::string_view kDaemon = "MAILER-DAEMON";
    if (clean.size() > kDaemon.size() && util::iequals(std::string_view(clean).substr(0, kDaemon.size() + 1),
                                                       "mailer-daemon@")) {
        std::string canon = rewrite_internal("local", kDaemon);
        if (util::iequals(clean, canon)) clean.clear();
    }
    apply_maps(clean, kEnvFrom);
    detect_utf8(clean, kUtf8Sender);
    out(rec::kFrom, clean);
    sender_ = clean;
    have_sender_ = true;
    if ((flags_ & ipc::kCleanupBccOk) && !clean.empty() && s_.sender_bcc_maps) {
        auto r = mail::mail_addr_find(*s_.sender_bcc_maps, clean, s_.find_ctx);
        if (r.status == mail::AddrFindResult::Status::found) {
            addr_bcc(r.value);
        } else if (r.status == mail::AddrFindResult::Status::error) {
            msg_warn("{}: {} map lookup problem -- message not accepted, try again later", queue_id_,
                     s_.sender_bcc_maps->title());
            errs_ |= ipc::kCleanupStatWrite;
        }
    }
}

void CleanupSession::addr_recipient(std::string_view address) {
    std::string clean = rewrite_internal("local", address.empty() ? std::string_view(s_.empty_address_recipient) : address);
    apply_maps(clean, kEnvRcpt);
    detect_utf8(clean, 0);
    if (!have_dsn_orcpt_ && !clean.empty()) {
        dsn_orcpt_ = ((smtputf8_ & kUtf8Requested) && !util::all_ascii(clean) ? "utf-8;" : "rfc822;") + clean;
        have_dsn_orcpt_ = true;
    }
    out_recipient(dsn_orcpt_, dsn_notify_, orig_rcpt_, clean);
    recip_ = clean;
    have_recip_ = true;
    if ((flags_ & ipc::kCleanupBccOk) && !clean.empty() && s_.recipient_bcc_maps) {
        auto r = mail::mail_addr_find(*s_.recipient_bcc_maps, clean, s_.find_ctx);
        if (r.status == mail::AddrFindResult::Status::found) {
            addr_bcc(r.value);
        } else if (r.status == mail::AddrFindResult::Status::error) {
            msg_warn("{}: {} map lookup problem -- message not accepted, try again later", queue_id_,
                     s_.recipient_bcc_maps->title());
            errs_ |= ipc::kCleanupStatWrite;
        }
    }
}

void CleanupSession::addr_bcc(std::string_view address) {
    std::string clean = rewrite_internal("local", address);
    apply_maps(clean, kEnvRcpt);
    detect_utf8(clean, 0);
    out_recipient("", 1, clean, clean);  // DSN NOTIFY=NEVER for automatic BCC
}

std::vector<std::string> CleanupSession::map1n(const std::string& address) {
    std::vector<std::string> list{address};
    std::set<std::string> been_here;  // folded addresses that expanded to themselves
    auto fail = [&](std::string why) {
        msg_warn("{}", why);
        errs_ |= ipc::kCleanupStatDefer;
        reason_ = "4.6.0 Alias expansion error";
        return std::vector<std::string>{address};
    };
    const mail::Maps& maps = *s_.virtual_alias_maps;
    for (size_t arg = 0; arg < list.size(); ++arg) {
        if (static_cast<long>(list.size()) > s_.virtual_expansion_limit)
            return fail(fmt::format("{}: unreasonable {} map expansion size for {} -- message not accepted, try again later",
                                    queue_id_, maps.title(), address));
        for (long count = 0;; ++count) {
            if (been_here.count(util::to_lower(list[arg]))) break;
            if (count >= s_.virtual_recursion_limit)
                return fail(fmt::format("{}: unreasonable {} map nesting for {} -- message not accepted, try again later",
                                        queue_id_, maps.title(), address));
            bool error = false;
            std::string ext = mail::quote_822_local(list[arg]);
            auto lookup = mail::mail_addr_map(
                maps, ext, s_.propagate_virtual, s_.find_ctx,
                [this](const std::string& a) {
                    if (a.find('@') != std::string::npos) return a;
                    return mail::quote_822_local(rewrite_internal("local", mail::unquote_822_local(a)));
                },
                &error);
            if (lookup) {
                std::string saved = list[arg];
                for (size_t i = 0; i < lookup->size(); ++i) {
                    std::string v = mail::unquote_822_local((*lookup)[i]);
                    if (static_cast<long>(v.size()) > s_.virtual_address_length_limit)
                        return fail(fmt::format("{}: unreasonable {} result {:.300}... -- message not accepted, try again later",
                                                queue_id_, maps.title(), v));
                    if (i == 0) list[arg] = v;
                    else list.push_back(v);
                    if (util::iequals(saved, v)) been_here.insert(util::to_lower(saved));
                }
            } else if (error) {
                msg_warn("{}: {} map lookup problem for {} -- message not accepted, try again later", queue_id_,
                         maps.title(), address);
                errs_ |= ipc::kCleanupStatWrite;
                reason_ = "4.6.0 Alias expansion error";
                return {address};
            } else {
                break;
            }
        }
    }
    return list;
}

void CleanupSession::out_recipient(std::string_view dsn_orcpt, int dsn_notify, std::string_view orcpt,
                                   std::string_view recip) {
    auto emit = [&](std::string_view r) {
        // The duplicate filter compares case-folded keys and stops
        // remembering (everything passes) once duplicate_filter_limit
        // keys are stored, as the reference's does.
        std::string key = util::to_lower(s_.enable_original_recipient
                                             ? fmt::format("{}\n{}\n{}\n{}", dsn_orcpt, dsn_notify, orcpt, r)
                                             : std::string(r));
        if (dups_.count(key)) return;
        if (s_.duplicate_filter_limit <= 0 || static_cast<long>(dups_.size()) < s_.duplicate_filter_limit)
            dups_.insert(key);
        if (dsn_notify) out(rec::kAttr, fmt::format("notify_flags={}", dsn_notify));
        if (!dsn_orcpt.empty()) out(rec::kAttr, fmt::format("dsn_orig_rcpt={}", dsn_orcpt));
        out(rec::kOrigRcpt, orcpt);
        const bool was_ok = out_ok();
        long offset = sink_.offset();
        out(rec::kRcpt, r);
        if (was_ok)
            written_rcpts_.push_back(
                {{std::string(orcpt), std::string(r), std::string(dsn_orcpt), dsn_notify, offset}, sink_.offset()});
        ++rcpt_count_;
    };
    if (!(flags_ & ipc::kCleanupMapOk) || !s_.virtual_alias_maps) {
        emit(recip);
        return;
    }
    std::vector<std::string> list = map1n(std::string(recip));
    // An address probe sent by the MTA (verify's) stops here when the
    // address expands to several recipients: it counts as deliverable,
    // the verify service hears so ("aliased to multiple recipients") and
    // none of the recipients is written, as with the reference.
    auto trace_flags = [this] {
        // The envelope's trace_flags attribute (digits only: the envelope
        // reader rejects anything else).
        for (const auto& [name, value] : attrs_)
            if (name == "trace_flags") return static_cast<unsigned>(std::strtoul(value.c_str(), nullptr, 10));
        return 0u;
    };
    if (list.size() > 1 && (trace_flags() & ipc::kDeliveryMtaVerify)) {
        ipc::Dsn dsn = ipc::Dsn::simple("2.0.0", "aliased to multiple recipients");
        dsn.action = "deliverable";
        ipc::TimeStamp arrival{arrival_seconds_, 0};
        if (auto space = arrival_text_.find(' '); space != std::string::npos)
            arrival.usec = std::strtol(arrival_text_.c_str() + space + 1, nullptr, 10);
        if (arrival.usec < 0 || arrival.usec > 999999) arrival.usec = 0;
        if (!verify_ ||
            !verify_({std::string(orcpt), std::string(recip), std::string(dsn_orcpt), dsn_notify, 0}, dsn, arrival)) {
            msg_warn("{}: verify service update error", queue_id_);
            errs_ |= ipc::kCleanupStatWrite;
        }
        return;
    }
    // A NOTIFY=SUCCESS recipient that aliasing replaced: the sender is
    // told now that the address was "expanded" (a trace record for the
    // report qmgr sends), and the new addresses keep the other NOTIFY
    // bits (NEVER when SUCCESS was the only one), as the reference does.
    if ((dsn_notify & 2) && (list.size() > 1 || list.front() != recip)) {
        ipc::Dsn dsn = ipc::Dsn::simple("2.0.0", "alias expanded");
        dsn.action = "expanded";
        traced_ = true;
        if (!trace_ || !trace_({std::string(orcpt), std::string(recip), std::string(dsn_orcpt), dsn_notify, 0}, dsn)) {
            msg_warn("{}: trace logfile update error", queue_id_);
            errs_ |= ipc::kCleanupStatWrite;
        }
        dsn_notify = dsn_notify == 2 ? 1 : (dsn_notify & ~2);
    }
    for (const std::string& r : list) emit(r);
}

}  // namespace pf::cleanup
