// reject_unverified_sender and reject_unverified_recipient, as the
// reference's smtpd: ask the verify service (ipc/verify_client.h) about
// the address, polling up to address_verify_poll_count times with
// address_verify_poll_delay between while the answer is "probe in
// progress"; then
//   - service failure: "<addr>: <class> rejected: address verification
//     problem" (450, deferred when the tempfail action is
//     defer_if_permit), with the warning "<service> service failure";
//   - deliverable: no decision;
//   - in progress or deferred: *_defer_code with "unverified address:
//     <reason>" (deferred when the tempfail action says so, for a 4xx code);
//   - bounced: *_reject_code with "undeliverable address: <reason>"
//     (a 4xx *_reject_code reads as "unverified address" and follows the
//     tempfail action);
// *_reject_reason, when set, replaces the service's reason. Status codes:
// 4.1.7 for the sender, 4.1.1 for the recipient (class from the reply).
//
// Trust: the address is the client's; the service's reason is its own.
#include "daemon/smtpd/smtpd_check_impl.h"
#include "util/msg.h"

#include <fmt/core.h>

namespace pf::smtpd {

Status SmtpdCheck::Impl::reject_unverified_address(Eval& e, std::string_view addr, std::string_view reply_name,
                                                   std::string_view reply_class, int defer_code, int reject_code_cfg,
                                                   bool tf_defer_if_permit, std::string_view alt_reason) {
    constexpr int kOk = 0, kDefer = 1, kBounce = 2, kTodo = 3;
    if (util::msg_verbose) util::msg_info("reject_unverified_address: {}", addr);
    const std::string_view dsn = reply_class == reply_class::kSender ? "4.1.7" : "4.1.1";
    std::optional<CheckServices::VerifyResult> answer;
    for (int count = 0;;) {
        answer = services.verify(addr);
        if (!answer || answer->status != kTodo) break;
        if (++count >= params.verify_poll_count) break;
        services.sleep(params.verify_poll_delay);
    }
    if (!answer) {
        util::msg_warn("{} service failure", params.verify_service);
        return defer_if_permit_or_reject(tf_defer_if_permit, e, error_class::kPolicy, 450, dsn,
                                         fmt::format("<{}>: {} rejected: address verification problem", reply_name,
                                                     reply_class));
    }
    int code = 0;
    switch (answer->status) {
    case kTodo:
    case kDefer: code = defer_code; break;
    case kOk: break;
    case kBounce: code = reject_code_cfg; break;
    default: util::msg_warn("unknown address verification status {}", answer->status); break;
    }
    std::string why = answer->reason;
    if (code >= 400 && !alt_reason.empty()) why = std::string(alt_reason);
    switch (code / 100) {
    case 0:
    case 2: return Status::dunno;
    case 4:
        return defer_if_permit_or_reject(tf_defer_if_permit, e, error_class::kPolicy, code, dsn,
                                         fmt::format("<{}>: {} rejected: unverified address: {:.250}", reply_name,
                                                     reply_class, why));
    default:
        return reject(e, error_class::kPolicy, code, dsn,
                      fmt::format("<{}>: {} rejected: undeliverable address: {}", reply_name, reply_class, why));
    }
}

}  // namespace pf::smtpd
