// cleanup's own bounce, as the reference's cleanup does it for clients
// that cannot return mail themselves (pickup: mail from sendmail/postdrop
// or requeued with "postsuper -r"): when a message is rejected (REJECT in
// header/body checks, too large, no recipients, too many hops) and the
// client set the bounce flag, every recipient written to the queue file
// so far gets a bounce log entry and a "status=bounced" log line
// (relay=none, the reject reason split into DSN code and text, default
// 5.0.0; without a reason the generic text of the error), then the bounce
// service is asked for the non-delivery notice (headers only after a
// content or size rejection). When all that worked, the message counts
// as delivered: the queue file goes away and the client hears "success".
//
// Trust: the recipients are the ones this session wrote itself.
#include "daemon/cleanup/cleanup_session.h"

#include "ipc/deliver_dsn.h"
#include "ipc/services.h"
#include "util/msg.h"

namespace pf::cleanup {

namespace {

// The reference's generic DSN code and text per error bit, most severe
// first.
struct StatDetail {
    unsigned bit;
    const char* dsn;
    const char* text;
};
constexpr StatDetail kStatDetails[] = {
    {ipc::kCleanupStatDefer, "4.7.1", "service unavailable"},
    {ipc::kCleanupStatProxy, "4.3.0", "queue file write error"},
    {ipc::kCleanupStatBad, "4.3.0", "internal protocol error"},
    {ipc::kCleanupStatRcpt, "5.1.0", "no recipients specified"},
    {ipc::kCleanupStatHops, "5.4.0", "too many hops"},
    {ipc::kCleanupStatSize, "5.3.4", "message file too big"},
    {ipc::kCleanupStatCont, "5.7.1", "message content rejected"},
    {ipc::kCleanupStatWrite, "4.3.0", "queue file write error"},
};

constexpr int kDsnRetHdrs = 2;

}  // namespace

bool CleanupSession::can_bounce() const {
    constexpr unsigned kCantBounce = ipc::kCleanupStatBad | ipc::kCleanupStatWrite | ipc::kCleanupStatDefer;
    return errs_ != 0 && (errs_ & kCantBounce) == 0 && have_sender_ && (flags_ & ipc::kCleanupBounce) != 0;
}

unsigned CleanupSession::bounce(ipc::DeliveryRecorder& recorder, const NoticeCall& notice) {
    std::string status, text;
    if (!reason_.empty()) {
        ipc::DsnSplit split = ipc::dsn_split("5.0.0", reason_);
        status = split.status;
        text.assign(split.text);
    } else {
        status = "4.3.0", text = "internal protocol error";
        for (const StatDetail& d : kStatDetails)
            if (errs_ & d.bit) {
                status = d.dsn, text = d.text;
                break;
            }
    }
    bool failed = false;
    auto one = [&](const ipc::DeliveryRecipient& rcpt) {
        if (recorder.bounce(rcpt, ipc::kNoRelay, ipc::Dsn::simple(status, text)) != 0) failed = true;
    };
    // The reference reads the recipients back from its queue file, which
    // stops at the size limit: recipients past it are not bounced, and
    // the record cut there is reported.
    const long file_end = size_cut_ ? s_.message_size_limit : -1;
    bool any = false;
    for (const WrittenRecipient& w : written_rcpts_) {
        if (failed) break;
        if (file_end >= 0 && w.end > file_end) break;
        any = true;
        one(w.rcpt);
    }
    if (file_end >= 0 && cut_type_ != 0) {
        if (cut_in_length_)
            util::msg_warn("incoming/{}: unexpected EOF reading length, record type {}", queue_id_,
                           static_cast<int>(static_cast<unsigned char>(cut_type_)));
        else
            util::msg_warn("incoming/{}: unexpected EOF in data, record type {} length {}", queue_id_,
                           static_cast<int>(static_cast<unsigned char>(cut_type_)), cut_length_);
    }
    if (!failed && !any) one(ipc::DeliveryRecipient{"", "unknown", "", 0, 0});
    if (!failed) {
        ipc::BounceNoticeRequest req;
        req.request = "flush";
        req.flags = ipc::kBounceFlagClean;
        req.queue_name = "incoming";
        req.queue_id = queue_id_;
        req.encoding = encoding_;
        req.smtputf8 = smtputf8_;
        req.sender = sender_;
        req.dsn_envid = dsn_envid_;
        req.dsn_ret = (errs_ & (ipc::kCleanupStatCont | ipc::kCleanupStatSize)) ? kDsnRetHdrs : dsn_ret_;
        req.verp_delims = s_.verp_bounce_off ? std::string() : verp_delims_;
        if (!req.verp_delims.empty()) req.request = "verp";
        if (notice(req) != 0) {
            util::msg_warn("{}: bounce message failure", queue_id_);
            failed = true;
        }
    }
    if (failed) {
        errs_ = ipc::kCleanupStatWrite;
    } else {
        errs_ = 0;
        flags_ |= kDiscard;
    }
    return errs_;
}

}  // namespace pf::cleanup
