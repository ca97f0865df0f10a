// Writing records to the new queue file, as the reference's cleanup does:
// content records longer than line_length_limit are cut into L records
// followed by the rest; a write error makes the message deferred. Also the
// final update of the size record and the status returned to the client.
#include "daemon/cleanup/cleanup_session.h"

#include "ipc/services.h"
#include "queue/record.h"
#include "util/msg.h"

#include <fmt/format.h>

namespace pf::cleanup {

namespace rec = queue::rec;
using util::msg_warn;

void CleanupSession::out(char type, std::string_view data) {
    if (!out_ok()) return;
    bool text = type == rec::kNorm || type == rec::kCont;
    const size_t limit = static_cast<size_t>(s_.line_length_limit);
    bool ok = true;
    while (text && data.size() > limit && ok) {
        ok = sink_.write(rec::kCont, data.substr(0, limit));
        data.remove_prefix(limit);
    }
    if (ok) ok = sink_.write(type, data);
    if (!ok) {
        msg_warn("{}: write queue file: {}", queue_id_, "I/O error");
        errs_ |= ipc::kCleanupStatWrite;
    }
}

void CleanupSession::out_text(char type, std::string_view data) { out(type, data); }

void CleanupSession::set_reason(std::string text) { reason_ = std::move(text); }

unsigned CleanupSession::finish() {
    if (out_ok()) {
        if (!have_recip_) errs_ |= ipc::kCleanupStatRcpt;
        if (!end_seen_) errs_ |= ipc::kCleanupStatBad;
    }
    if (flags_ & kDiscard) errs_ = 0;
    if (out_ok() && errs_ == 0) {
        std::string size = fmt::format("{:15} {:15} {:15} {:15} {:15} {:15}", xtra_offset_ - data_offset_, data_offset_,
                                       rcpt_count_, qmgr_opts_, cont_length_, smtputf8_);
        if (!sink_.rewrite_first(rec::kSize, size)) {
            msg_warn("{}: write queue file: {}", queue_id_, "I/O error");
            errs_ |= ipc::kCleanupStatWrite;
        }
    }
    return errs_;
}

}  // namespace pf::cleanup
