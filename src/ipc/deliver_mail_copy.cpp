// Message copy for delivery agents (deliver_mail_copy.h).
#include "ipc/deliver_mail_copy.h"

#include "mail/address_quote.h"
#include "queue/record.h"
#include "util/msg.h"

#include <cerrno>
#include <fmt/core.h>

namespace pf::ipc {

namespace {

constexpr std::size_t kMaxRecord = 1 << 24;
constexpr std::size_t kFlushAt = 8192;

class Buffered {
public:
    explicit Buffered(const CopySink& sink) : sink_(sink) {}
    void put(std::string_view text) {
        if (failed_) return;
        buf_.append(text);
        if (buf_.size() >= kFlushAt) flush();
    }
    bool flush() {
        if (failed_) return false;
        if (!buf_.empty() && !sink_(buf_)) {
            failed_ = true;
            errno_ = errno;
        }
        buf_.clear();
        return !failed_;
    }
    bool failed() const { return failed_; }
    int error() const { return errno_; }

private:
    const CopySink& sink_;
    std::string buf_;
    bool failed_ = false;
    int errno_ = 0;
};

}  // namespace

std::string from_line_time(std::time_t when) {
    struct tm tm {};
    ::localtime_r(&when, &tm);
    char buf[64];
    // asctime's layout: "Www Mmm dd hh:mm:ss yyyy" with a blank-padded day.
    static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::snprintf(buf, sizeof(buf), "%.3s %.3s%3d %.2d:%.2d:%.2d %d", kDays[tm.tm_wday % 7], kMonths[tm.tm_mon % 12],
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, 1900 + tm.tm_year);
    return buf;
}

CopyResult copy_message(std::FILE* queue_file, long data_offset, const CopyEnvelope& env, unsigned flags,
                        std::string_view eol, const CopySink& write) {
    CopyResult result;
    Buffered out(write);

    if (flags & (kCopyFrom | kCopyReturnPath)) {
        std::string quoted = mail::quote_822_local(env.sender);
        if (flags & kCopyFrom) {
            std::time_t now = env.now ? env.now : std::time(nullptr);
            out.put(fmt::format("From {}  {}", env.sender.empty() ? "MAILER-DAEMON" : quoted, from_line_time(now)));
            out.put(eol);
        }
        if (flags & kCopyReturnPath) {
            out.put(fmt::format("Return-Path: <{}>", env.sender.empty() ? std::string() : quoted));
            out.put(eol);
        }
    }
    if ((flags & kCopyOrigRcpt) && env.enable_original_recipient && !env.orig_recipient.empty()) {
        out.put(fmt::format("X-Original-To: {}", mail::quote_822_local(env.orig_recipient)));
        out.put(eol);
    }
    if (flags & kCopyDelivered) {
        out.put(fmt::format("Delivered-To: {}", mail::quote_822_local(env.delivered)));
        out.put(eol);
    }

    if (std::fseek(queue_file, data_offset, SEEK_SET) != 0) {
        result.read_error = true;
        return result;
    }
    char prev = queue::rec::kNorm;
    char stop_type = 0;
    bool stopped_by_error = false;
    while (!out.failed()) {
        auto record = queue::read_record(queue_file, kMaxRecord);
        if (!record) {
            if (record.error() == queue::RecordError::io) result.read_error = true;
            stopped_by_error = true;
            break;
        }
        if (record->type != queue::rec::kNorm && record->type != queue::rec::kCont) {
            stop_type = record->type;
            break;
        }
        const std::string& data = record->data;
        if (prev == queue::rec::kNorm) {
            if ((flags & kCopyQuote) && data.starts_with("From ")) out.put(">");
            if ((flags & kCopyDot) && !data.empty() && data[0] == '.') out.put(".");
        }
        out.put(data);
        if (record->type == queue::rec::kNorm) out.put(eol);
        prev = record->type;
    }
    if (!out.failed()) {
        if (stopped_by_error || stop_type != queue::rec::kExtracted) {
            util::msg_warn("bad record type: {} in message content", static_cast<int>(stop_type));
            result.corrupt = true;
        }
        if (prev != queue::rec::kNorm) out.put(eol);
        if (flags & kCopyBlank) out.put(eol);
    }
    if (!out.flush()) {
        result.write_error = true;
        result.write_errno = out.error();
    }
    return result;
}

}  // namespace pf::ipc
