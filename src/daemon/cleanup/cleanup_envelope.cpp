// The envelope segment of a message entering cleanup, as the reference's
// cleanup handles it: the size record goes first (filled in at the end),
// the first T, F and W records win, A create_time is ours, the sender is
// rewritten once (a second S rejects the message), DSN attributes are
// attached to the next recipient, recipients are rewritten and expanded
// (cleanup_addr.cpp), content filter and redirect records stay where they
// came, and M switches to the content.
#include "daemon/cleanup/cleanup_session.h"

#include "ipc/services.h"
#include "queue/record.h"
#include "util/msg.h"

#include <charconv>
#include <cstdlib>
#include <fmt/format.h>

namespace pf::cleanup {

namespace rec = queue::rec;
using util::msg_warn;

namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

bool all_print(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x7f) return false;
    return true;
}

// The record type a DSN attribute stands for (the reference keeps DSN
// data in A records so older versions can read the file).
char attribute_pseudo_type(std::string_view name) {
    if (name == "dsn_orig_rcpt") return rec::kDsnOrcpt;
    if (name == "notify_flags") return rec::kDsnNotify;
    if (name == "envelope_id") return rec::kDsnEnvid;
    if (name == "ret_flags") return rec::kDsnRet;
    if (name == "create_time") return rec::kCreateTime;
    return 0;
}

constexpr int kDsnNotifyMask = 1 | 2 | 4 | 8;  // NEVER SUCCESS FAILURE DELAY

}  // namespace

CleanupSession::CleanupSession(const CleanupSettings& settings, QueueSink& sink, std::string queue_id,
                               std::time_t create_time, Rewriter rewriter)
    : s_(settings), sink_(sink), queue_id_(std::move(queue_id)), create_time_(create_time),
      rewriter_(std::move(rewriter)) {}

void CleanupSession::set_flags(unsigned flags) {
    flags_ = flags;
    err_mask_ = (flags & ipc::kCleanupBounce)
                    ? (ipc::kCleanupStatBad | ipc::kCleanupStatWrite | ipc::kCleanupStatSize |
                       ipc::kCleanupStatProxy | ipc::kCleanupStatDefer)
                    : ~0u;
    if (flags & ipc::kCleanupSmtputf8) smtputf8_ = kUtf8Requested;
    // The size record first, so that it can be updated in place.
    out(rec::kSize, fmt::format("{:15} {:15} {:15} {:15} {:15} {:15}", 0, 0, 0, 0, 0, 0));
}

bool CleanupSession::split_attribute(std::string_view data, std::string& name, std::string& value) {
    size_t eq = data.find('=');
    std::string_view n = data.substr(0, eq);
    while (!n.empty() && (n.front() == ' ' || n.front() == '\t')) n.remove_prefix(1);
    while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.remove_suffix(1);
    if (eq == std::string_view::npos || n.empty()) {
        msg_warn("{}: message rejected: malformed attribute: {}: {:.100}", queue_id_,
                 eq == std::string_view::npos ? "missing '=' after attribute name" : "missing attribute name",
                 data);
        errs_ |= ipc::kCleanupStatBad;
        return false;
    }
    std::string_view v = data.substr(eq + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    name.assign(n);
    value.assign(v);
    return true;
}

void CleanupSession::record(char type, std::string_view data) {
    if (!out_ok() || end_seen_) return;
    switch (stage_) {
    case Stage::envelope: envelope_record(type, data); break;
    case Stage::content: content_record(type, data); break;
    case Stage::extracted: extracted_record(type, data); break;
    case Stage::done: break;
    }
}

void CleanupSession::extra_flags_record(std::string_view data) {
    // Extra request flags from the client (smtpd's HOLD and DISCARD
    // actions); anything else is refused with the reference's warning.
    unsigned long extra = 0;
    auto [end, ec] = std::from_chars(data.data(), data.data() + data.size(), extra);
    if (ec != std::errc() || end != data.data() + data.size() || (extra & ~(kHold | kDiscard)) != 0) {
        msg_warn("{}: ignoring bad extra flags: 0x{:x}", queue_id_, extra);
        return;
    }
    flags_ |= static_cast<unsigned>(extra);
}

void CleanupSession::envelope_record(char type, std::string_view data) {
    if (type == rec::kFlags) {  // not part of the queue file
        extra_flags_record(data);
        return;
    }
    if (type == rec::kMilterCount) return;
    char mapped = type;
    std::string_view mapped_data = data;
    std::string name, value;
    if (type == rec::kAttr) {
        if (!split_attribute(data, name, value)) return;
        if (value.empty()) {
            msg_warn("{}: spurious null attribute value for \"{}\" -- ignored", queue_id_, name);
            return;
        }
        if (char p = attribute_pseudo_type(name)) {
            mapped = p;
            mapped_data = value;
        }
    }
    static constexpr std::string_view kEnvelopeTypes = "MCTcFILSDRO/WVA>K<ion";
    if (kEnvelopeTypes.find(type) == std::string_view::npos) {
        msg_warn("{}: message rejected: unexpected record type {} in envelope", queue_id_,
                 static_cast<int>(static_cast<unsigned char>(type)));
        errs_ |= ipc::kCleanupStatBad;
        return;
    }
    static constexpr std::string_view kRecipientTypes = "MDRO/Kon";
    if (!(flags_ & kInRcpt) && kRecipientTypes.find(mapped) != std::string_view::npos) {
        if (!have_sender_) {
            msg_warn("{}: message rejected: missing sender envelope record", queue_id_);
            errs_ |= ipc::kCleanupStatBad;
            return;
        }
        if (arrival_seconds_ == 0) {
            msg_warn("{}: message rejected: missing time envelope record", queue_id_);
            errs_ |= ipc::kCleanupStatBad;
            return;
        }
        if (!(flags_ & kWarnSeen) && !sender_.empty() && s_.delay_warning_time > 0)
            out(rec::kWarn, fmt::format("{:15}", arrival_seconds_ + s_.delay_warning_time));
        flags_ |= kInRcpt;
    }
    if (type == rec::kRcpt) {
        if (!have_orig_rcpt_) {
            orig_rcpt_.assign(data);
            have_orig_rcpt_ = true;
        }
        addr_recipient(data);
        have_orig_rcpt_ = false;
        orig_rcpt_.clear();
        have_dsn_orcpt_ = false;
        dsn_orcpt_.clear();
        dsn_notify_ = 0;
        return;
    }
    if (type == rec::kDone || type == rec::kDropped) {
        have_orig_rcpt_ = false;
        orig_rcpt_.clear();
        have_dsn_orcpt_ = false;
        dsn_orcpt_.clear();
        dsn_notify_ = 0;
        return;
    }
    if (mapped == rec::kDsnOrcpt) {
        if (have_dsn_orcpt_)
            msg_warn("{}: ignoring out-of-order DSN original recipient record <{:.200}>", queue_id_, dsn_orcpt_);
        dsn_orcpt_.assign(mapped_data);
        have_dsn_orcpt_ = true;
        return;
    }
    if (mapped == rec::kDsnNotify) {
        if (dsn_notify_) {
            msg_warn("{}: ignoring out-of-order DSN notify record <{}>", queue_id_, dsn_notify_);
            dsn_notify_ = 0;
        }
        int n = all_digits(mapped_data) ? std::atoi(std::string(mapped_data).c_str()) : 0;
        if (n == 0 || (n & ~kDsnNotifyMask) || ((n & 1) && (n & ~1)))
            msg_warn("{}: ignoring malformed DSN notify record <{:.200}>", queue_id_, data);
        else
            dsn_notify_ = n, qmgr_opts_ |= static_cast<long>(n) << 1;
        return;
    }
    if (type == rec::kOrigRcpt) {
        if (have_orig_rcpt_)
            msg_warn("{}: ignoring out-of-order original recipient record <{:.200}>", queue_id_, orig_rcpt_);
        orig_rcpt_.assign(data);
        have_orig_rcpt_ = true;
        return;
    }
    if (type == rec::kMessage) {
        stage_ = Stage::content;
        // The MIME checks apply to mail that header/body checks apply to.
        if (!s_.disable_mime && (flags_ & ipc::kCleanupFilter)) {
            if (s_.strict_8bitmime || s_.strict_7bit_headers) mime_opts_ |= kMime8bitHeader;
            if (s_.strict_8bitmime || s_.strict_8bitmime_body) mime_opts_ |= kMime8bitBody;
            if (s_.strict_mime_encoding_domain) mime_opts_ |= kMimeEncodingDomain;
        }
        flags_ &= ~kInRcpt;
        out(rec::kMessage, "");
        data_offset_ = sink_.offset();
        return;
    }
    // FILTER and REDIRECT records (content_filter from smtpd, qmqpd and
    // pickup) go out where they arrive, like any other record: before the
    // sender they stay there, after a recipient they mark the recipients
    // as mixed. Only header/body check results (filter_, redirect_) wait
    // for the extracted segment. This is what the reference does.
    if (flags_ & kInRcpt) qmgr_opts_ |= 1;  // recipients mixed with other records
    if (type == rec::kSize) {
        // Ours replaces the client's. (The reference means to keep a
        // requeued file's "SMTPUTF8 requested" bit here, but its scan of
        // the client's record never matches: only the bit that the flags
        // set survives.)
        smtputf8_ &= kUtf8Requested;
        return;
    }
    if (mapped == rec::kCreateTime) return; // ours replaces the client's
    if (type == rec::kTime) {
        if (arrival_seconds_ == 0) {
            arrival_seconds_ = std::atol(std::string(data).c_str());
            if (arrival_seconds_ <= 0) arrival_seconds_ = 1;
            arrival_text_.assign(data);  // "seconds [microseconds]"
            out(type, data);
        }
        out(rec::kAttr, fmt::format("create_time={}", static_cast<long>(create_time_)));
        return;
    }
    if (type == rec::kFullName) {
        if (!have_fullname_) {
            have_fullname_ = true;
            fullname_.assign(data);
            out(type, data);
        }
        return;
    }
    if (type == rec::kFrom) {
        if (have_sender_) {
            msg_warn("{}: message rejected: multiple envelope sender records", queue_id_);
            errs_ |= ipc::kCleanupStatBad;
            return;
        }
        addr_sender(data);
        return;
    }
    if (mapped == rec::kDsnEnvid) {
        if (!all_print(mapped_data)) {
            msg_warn("{}: message rejected: bad DSN envelope ID record", queue_id_);
            errs_ |= ipc::kCleanupStatBad;
            return;
        }
        dsn_envid_.assign(mapped_data);
        out(type, data);
        return;
    }
    if (mapped == rec::kDsnRet) {
        int n = all_digits(mapped_data) ? std::atoi(std::string(mapped_data).c_str()) : 0;
        if (n != 1 && n != 2) {
            msg_warn("{}: message rejected: bad DSN RET record <{:.200}>", queue_id_, data);
            errs_ |= ipc::kCleanupStatBad;
            return;
        }
        dsn_ret_ = n;
        out(type, data);
        return;
    }
    if (type == rec::kWarn) {
        if (!(flags_ & kWarnSeen)) {
            flags_ |= kWarnSeen;
            out(type, data);
        }
        return;
    }
    if (type == rec::kVerp) {
        if (sender_.empty())
            msg_warn("{}: ignoring VERP request for null sender", queue_id_);
        else if (data.size() != 2)
            msg_warn("{}: ignoring bad VERP request: \"{:.100}\"", queue_id_, data);
        else
            verp_delims_.assign(data), out(type, data);
        return;
    }
    if (type == rec::kAttr) {
        if (attr_count_ >= s_.attribute_count_limit) {
            msg_warn("{}: message rejected: attribute count exceeds limit {}", queue_id_, s_.attribute_count_limit);
            errs_ |= ipc::kCleanupStatBad;
            return;
        }
        if (name == "rewrite_context") {
            if (value == "local") {
                hdr_rewrite_context_ = "local";
            } else if (value == "remote") {
                hdr_rewrite_context_ = s_.remote_rewrite ? "remote" : nullptr;
            } else {
                msg_warn("{}: message rejected: bad rewriting context: {:.100}", queue_id_, value);
                errs_ |= ipc::kCleanupStatBad;
                return;
            }
        }
        if (name == "trace_flags" && !all_digits(value)) {
            msg_warn("{}: message rejected: bad TFLAG record <{:.200}>", queue_id_, data);
            errs_ |= ipc::kCleanupStatBad;
            return;
        }
        bool replaced = false;
        for (auto& a : attrs_)
            if (a.first == name) a.second = value, replaced = true;
        if (!replaced) attrs_.emplace_back(name, value), ++attr_count_;
        if (name == "encoding") encoding_ = value;
        out(type, data);
        return;
    }
    out(type, data);
}

}  // namespace pf::cleanup
