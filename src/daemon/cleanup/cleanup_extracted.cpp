// The extracted segment (after X): FILTER/REDIRECT results and the
// encoding go out before the first extracted recipient, recipients are
// processed as in the envelope, and at E the always_bcc and header/body
// check BCC recipients are added, as the reference's cleanup does.
#include "daemon/cleanup/cleanup_session.h"

#include "ipc/services.h"
#include "queue/record.h"
#include "util/msg.h"

#include <cstdlib>
#include <fmt/format.h>

namespace pf::cleanup {

namespace rec = queue::rec;
using util::msg_warn;

void CleanupSession::extracted_record(char type, std::string_view data) {
    // smtpd's end-of-data HOLD and DISCARD come here, after the content;
    // the reference applies them as in the initial envelope.
    if (type == rec::kFlags) {
        extra_flags_record(data);
        return;
    }
    if (type == rec::kMilterCount) return;
    static constexpr std::string_view kExtractTypes = "EDRO/PreAFIL>Kon";
    if (kExtractTypes.find(type) == std::string_view::npos) {
        msg_warn("{}: message rejected: unexpected record type {} in extracted envelope", queue_id_,
                 static_cast<int>(static_cast<unsigned char>(type)));
        errs_ |= ipc::kCleanupStatBad;
        return;
    }
    std::string name, value;
    char mapped = type;
    std::string_view mdata = data;
    if (type == rec::kAttr) {
        if (!split_attribute(data, name, value)) return;
        if (value.empty()) {
            msg_warn("{}: spurious null attribute value for \"{}\" -- ignored", queue_id_, name);
            return;
        }
        if (name == "dsn_orig_rcpt") mapped = rec::kDsnOrcpt, mdata = value;
        else if (name == "notify_flags") mapped = rec::kDsnNotify, mdata = value;
        else if (name == "envelope_id") mapped = rec::kDsnEnvid, mdata = value;
        else if (name == "ret_flags") mapped = rec::kDsnRet, mdata = value;
    }
    static constexpr std::string_view kRecipientTypes = "EDRO/Kon";
    if (!(flags_ & kInRcpt) && kRecipientTypes.find(mapped) != std::string_view::npos) {
        if (!filter_.empty()) out(rec::kFilter, filter_);
        if (!redirect_.empty()) out(rec::kRedirect, redirect_);
        if (!encoding_.empty()) out(rec::kAttr, "encoding=" + encoding_);
        flags_ |= kInRcpt;
    }
    if (type == rec::kRcpt) {
        if (!have_sender_) {
            msg_warn("{}: message rejected: envelope recipient precedes sender", queue_id_);
            errs_ |= ipc::kCleanupStatBad;
            return;
        }
        if (!have_orig_rcpt_) orig_rcpt_.assign(data);
        addr_recipient(data);
        have_orig_rcpt_ = false, orig_rcpt_.clear();
        have_dsn_orcpt_ = false, dsn_orcpt_.clear();
        dsn_notify_ = 0;
        return;
    }
    if (type == rec::kDone || type == rec::kDropped) {
        have_orig_rcpt_ = false, orig_rcpt_.clear();
        have_dsn_orcpt_ = false, dsn_orcpt_.clear();
        dsn_notify_ = 0;
        return;
    }
    if (mapped == rec::kDsnOrcpt) {
        if (have_dsn_orcpt_)
            msg_warn("{}: ignoring out-of-order DSN original recipient record <{:.200}>", queue_id_, dsn_orcpt_);
        dsn_orcpt_.assign(mdata), have_dsn_orcpt_ = true;
        return;
    }
    if (mapped == rec::kDsnNotify) {
        int n = std::atoi(std::string(mdata).c_str());
        if (n <= 0 || n > 15) msg_warn("{}: ignoring malformed dsn notify record <{:.200}>", queue_id_, data);
        else dsn_notify_ = n, qmgr_opts_ |= static_cast<long>(n) << 1;
        return;
    }
    if (type == rec::kOrigRcpt) {
        if (have_orig_rcpt_)
            msg_warn("{}: ignoring out-of-order original recipient record <{:.200}>", queue_id_, data);
        orig_rcpt_.assign(data), have_orig_rcpt_ = true;
        return;
    }
    if (type == rec::kEnd) {
        flags_ &= ~kInRcpt;
        end_seen_ = true;
        extracted_finish();
        return;
    }
    if (flags_ & kInRcpt) qmgr_opts_ |= 1;
    out(type, data);
}

void CleanupSession::extracted_finish() {
    if ((flags_ & ipc::kCleanupBccOk) && have_recip_ && !s_.always_bcc.empty()) addr_bcc(s_.always_bcc);
    if (!hbc_rcpt_.empty()) {
        if (out_ok() && have_recip_)
            for (const std::string& r : hbc_rcpt_) addr_bcc(r);
        hbc_rcpt_.clear();
    }
    out(rec::kEnd, "");
    stage_ = Stage::done;
}

}  // namespace pf::cleanup
