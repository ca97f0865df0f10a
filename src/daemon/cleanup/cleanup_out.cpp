// Writing records to the new queue file, as the reference's cleanup does:
// content records longer than line_length_limit are cut into L records
// followed by the rest; a write error makes the message deferred. The
// size limit is the reference's file size resource limit as its buffered
// stream meets it: the file stops at message_size_limit bytes, and the
// error shows when a 4096-byte buffer past the limit is written or at the
// final flush ("queue file size limit exceeded"). Also the final update
// of the size record and the status returned to the client.
#include "daemon/cleanup/cleanup_session.h"

#include "ipc/services.h"
#include "queue/record.h"
#include "util/msg.h"

#include <fmt/format.h>

namespace pf::cleanup {

namespace rec = queue::rec;
using util::msg_warn;

namespace {

// The reference writes the queue file through a 4096-byte stream buffer
// under a file size resource limit of message_size_limit: the buffer
// holding bytes [4096(k-1), 4096k) is written out when byte 4096k comes,
// and that write fails once it reaches past the limit.
constexpr long kStreamBuffer = 4096;

// Bytes of the length field of a record (7 bits per byte).
long length_bytes(std::size_t len) {
    long n = 1;
    while (len >= 128) len >>= 7, ++n;
    return n;
}

}  // namespace

bool CleanupSession::write_record(char type, std::string_view data) {
    const long start = sink_.offset();
    if (!sink_.write(type, data)) return false;
    const long end = sink_.offset();
    const long limit = s_.message_size_limit;
    if (limit <= 0) return true;
    if (start < limit && end > limit) {
        // The record the file is cut in (cleanup's bounce reads up to it).
        cut_type_ = type;
        cut_length_ = static_cast<long>(data.size());
        cut_in_length_ = limit - start < 1 + length_bytes(data.size());
    }
    const long last_boundary = ((end - 1) / kStreamBuffer) * kStreamBuffer;
    if (last_boundary > 0 && last_boundary >= start && last_boundary > limit) {
        size_cut_ = true;
        return false;
    }
    return true;
}

void CleanupSession::out(char type, std::string_view data) {
    if (!out_ok()) return;
    bool text = type == rec::kNorm || type == rec::kCont;
    const size_t limit = static_cast<size_t>(s_.line_length_limit);
    bool ok = true;
    while (text && data.size() > limit && ok) {
        ok = write_record(rec::kCont, data.substr(0, limit));
        data.remove_prefix(limit);
    }
    if (ok) ok = write_record(type, data);
    if (!ok && size_cut_) {
        msg_warn("{}: queue file size limit exceeded", queue_id_);
        errs_ |= ipc::kCleanupStatSize;
    } else if (!ok) {
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
    // The final flush of the reference's stream fails when the file went
    // past the size limit after the last full buffer.
    if (out_ok() && s_.message_size_limit > 0 && sink_.offset() > s_.message_size_limit) {
        size_cut_ = true;
        msg_warn("{}: queue file size limit exceeded", queue_id_);
        errs_ |= ipc::kCleanupStatSize;
    }
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
