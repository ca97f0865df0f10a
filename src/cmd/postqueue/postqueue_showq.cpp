// postqueue(1)'s showq client and listings; see postqueue_showq.h.
#include "cmd/postqueue/postqueue_showq.h"

#include "util/msg.h"
#include "util/utf8.h"

#include <fmt/core.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace pf::postqueue {

namespace {

// Bounds on what the reader accepts from the server.
constexpr std::size_t kMaxValue = 1u << 24;
// What one read from the server asks for.
constexpr std::size_t kReadSize = 65536;
// Standard output goes out in pieces of at least this size.
constexpr std::size_t kWriteChunk = 65536;

// The reference's mailq columns.
struct Columns {
    int id;
    int size;
    int date;
};
constexpr Columns kShort{11, 7, 20};
constexpr Columns kLong{17, 8, 19};
const char* const kShortHeadings[] = {"-Queue ID-", "--Size--", "----Arrival Time----", "-Sender/Recipient-------"};
const char* const kLongHeadings[] = {"----Queue ID-----", "--Size--", "---Arrival Time----", "--Sender/Recipient------"};
// The room the reference's formatter reserves beyond a field's width for
// a formatted piece (half the bits of a long; found by comparing where
// its partial listings stop).
constexpr std::size_t kNumberRoom = 32;

// A number as "%*ld" prints it.
std::string right_aligned(long value, int width) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    std::size_t n = static_cast<std::size_t>(end - digits);
    std::string out;
    if (width > 0 && n < static_cast<std::size_t>(width)) out.assign(static_cast<std::size_t>(width) - n, ' ');
    out.append(digits, n);
    return out;
}

std::string decimal(long value) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    return std::string(digits, end);
}

// asctime() of the local time, cut to width characters. Queued messages
// share arrival times often enough (batches, the same second) that the
// last conversion is kept.
const std::string& arrival_text(long when, int width) {
    static long last_when = 0;
    static int last_width = -1;
    static std::string last_text;
    if (last_width == width && last_when == when) return last_text;
    std::time_t t = static_cast<std::time_t>(when);
    struct tm tm {};
    char buf[64] = "";
    static constexpr char kDays[] = "SunMonTueWedThuFriSat";
    static constexpr char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (::localtime_r(&t, &tm) == nullptr) {
        buf[0] = 0;
    } else if (tm.tm_year >= 1000 - 1900 && tm.tm_year <= 9999 - 1900 && tm.tm_wday >= 0 && tm.tm_wday < 7 &&
               tm.tm_mon >= 0 && tm.tm_mon < 12) {
        // asctime()'s "Www Mmm dd hh:mm:ss yyyy\n", without its printf.
        auto two = [](char* p, int v) {
            p[0] = static_cast<char>('0' + v / 10 % 10);
            p[1] = static_cast<char>('0' + v % 10);
        };
        std::memcpy(buf, kDays + 3 * tm.tm_wday, 3);
        buf[3] = ' ';
        std::memcpy(buf + 4, kMonths + 3 * tm.tm_mon, 3);
        buf[7] = ' ';
        two(buf + 8, tm.tm_mday);
        if (tm.tm_mday < 10) buf[8] = ' ';
        buf[10] = ' ';
        two(buf + 11, tm.tm_hour);
        buf[13] = ':';
        two(buf + 14, tm.tm_min);
        buf[16] = ':';
        two(buf + 17, tm.tm_sec);
        buf[19] = ' ';
        int year = tm.tm_year + 1900;
        two(buf + 20, year / 100);
        two(buf + 22, year % 100);
        buf[24] = '\n';
        buf[25] = 0;
    } else if (::asctime_r(&tm, buf) == nullptr) {
        buf[0] = 0;
    }
    last_text.assign(buf);
    if (last_text.size() > static_cast<std::size_t>(width)) last_text.resize(static_cast<std::size_t>(width));
    last_when = when;
    last_width = width;
    return last_text;
}

// util::printable() into out, reusing its buffer: printable ASCII (almost
// every string received) is copied as it is.
void printable_into(std::string& out, std::string_view text, bool utf8) {
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f) {
            out = util::printable(text, utf8);
            return;
        }
    }
    out.assign(text);
}

}  // namespace

bool ListingOutput::write_to(std::size_t end) {
    if (failed_) return false;
    if (end <= base_) return true;
    std::size_t n = end - base_;
    if (!writer_(std::string_view(buffer_).substr(0, n))) {
        failed_ = true;
        buffer_.clear();
        return false;
    }
    buffer_.erase(0, n);
    base_ = end;
    return true;
}

bool ListingOutput::write(std::string_view bytes) {
    if (failed_) return false;
    buffer_.append(bytes);
    // The reference's buffer: bytes go in while there is room; a byte
    // that finds it full first has it written out whole (or, the very
    // first time, allocated).
    std::size_t n = bytes.size();
    while (n > 0) {
        if (ref_used_ == ref_len_) {
            if (ref_len_ < kReferenceBuffer) {
                ref_len_ = kReferenceBuffer;
            } else {
                ref_written_ += ref_used_;
                ref_used_ = 0;
            }
        }
        std::size_t take = std::min(n, ref_len_ - ref_used_);
        ref_used_ += take;
        n -= take;
    }
    if (ref_written_ - base_ >= kWriteChunk) return write_to(ref_written_);
    return true;
}

void ListingOutput::reserve(std::size_t want) {
    if (failed_ || want <= ref_len_ - ref_used_) return;
    if (ref_used_ > kReferenceBuffer) {
        std::size_t out = ref_used_ / kReferenceBuffer * kReferenceBuffer;
        ref_written_ += out;
        ref_used_ -= out;
    }
    std::size_t free = ref_len_ - ref_used_;
    if (want > free)
        ref_len_ += (want - free + kReferenceBuffer - 1) / kReferenceBuffer * kReferenceBuffer;
}

void ListingOutput::flush_point() {
    ref_written_ += ref_used_;
    ref_used_ = 0;
    if (buffer_.size() >= kWriteChunk) (void)write_to(total());
}

bool ListingOutput::flush() { return write_to(total()); }

bool ListingOutput::stop() {
    bool ok = write_to(ref_written_);
    buffer_.clear();
    base_ = total();
    failed_ = true;
    return ok;
}

std::optional<unsigned long> scan_number(std::string_view text) {
    std::size_t i = 0;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
    while (i < text.size() && space(text[i])) ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    std::size_t digits = i;
    unsigned long value = 0;
    bool overflow = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        unsigned long d = static_cast<unsigned long>(text[i] - '0');
        if (value > (~0UL - d) / 10) overflow = true;
        else value = value * 10 + d;
    }
    if (i == digits || i != text.size()) return std::nullopt;
    if (overflow) return ~0UL;
    return negative ? 0UL - value : value;
}

int AttrStream::peek() {
    if (pos_ < buffer_.size()) return static_cast<unsigned char>(buffer_[pos_]);
    if (eof_) return -1;
    // Straight into the buffer (its bytes are all consumed by now).
    pos_ = 0;
    long n = 0;
    buffer_.resize_and_overwrite(kReadSize, [this, &n](char* p, std::size_t size) {
        n = read_(p, size);
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    });
    if (n <= 0) {
        eof_ = true;
        return -1;
    }
    return static_cast<unsigned char>(buffer_[0]);
}

int AttrStream::more() {
    int ch = peek();
    if (ch < 0) return -1;
    if (ch == 0) {
        ++pos_;
        return 0;
    }
    return 1;
}

AttrStream::Got AttrStream::cstring(std::string& out) {
    out.clear();
    for (;;) {
        if (peek() < 0) return out.empty() ? Got::eof_at_start : Got::eof_inside;
        std::size_t nul = buffer_.find('\0', pos_);
        std::size_t end = nul == std::string::npos ? buffer_.size() : nul;
        out.append(buffer_, pos_, end - pos_);
        pos_ = end;
        if (out.size() > kMaxValue) return Got::too_long;
        if (nul != std::string::npos) {
            ++pos_;
            return Got::ok;
        }
    }
}

int AttrStream::scan(const std::vector<Expect>& expect, std::vector<std::string>& values, bool until_end,
                     const Check& check) {
    // The strings of values are reused from call to call (no allocation
    // per attribute once they have grown).
    if (values.size() < expect.size()) values.resize(expect.size());
    auto eof_warning = [this](Got got, std::string_view what) {
        if (got == Got::eof_inside)
            util::msg_warn("unexpected end-of-input from {} while reading input attribute {}", name_, what);
        else if (got == Got::eof_at_start)
            util::msg_warn("premature end-of-input on {} while reading input attribute {}", name_, what);
    };
    std::string& name = attr_name_;
    for (std::size_t count = 0;; ) {
        Got got = cstring(name);
        if (got != Got::ok) {
            // The first name of a scan may be missing without a word.
            if (!(got == Got::eof_at_start && count == 0)) eof_warning(got, "name");
            return -1;
        }
        if (name.empty()) {
            if (count < expect.size()) {
                util::msg_warn("missing attribute {} in input from {}", expect[count].name, name_);
            }
            return static_cast<int>(count);
        }
        if (count == expect.size()) {
            util::msg_warn("unexpected attribute {} from {} (expecting: (list terminator))", name, name_);
            return static_cast<int>(count);
        }
        if (name != expect[count].name) {
            util::msg_warn("unexpected attribute {} from {} (expecting: {})", name, name_, expect[count].name);
            return static_cast<int>(count);
        }
        std::string& value = values[count];
        got = cstring(value);
        if (got != Got::ok) {
            eof_warning(got, "value");
            return -1;
        }
        if (expect[count].kind != Kind::string && !scan_number(value)) {
            util::msg_warn("malformed numerical data from {} while reading input attribute value: {}", name_, value);
            return -1;
        }
        if (check && !check(count, value)) return -1;
        if (++count == expect.size() && !until_end) return static_cast<int>(count);
    }
}

bool Listing::message(const ListedMessage& msg) {
    if (!message_begin() || !message_header(msg)) return false;
    for (const auto& r : msg.recipients)
        if (!recipient_begin() || !recipient(r)) return false;
    return recipients_end() && message_end();
}

bool Listing::padded(std::string_view text, int width, bool left, bool precision) {
    std::size_t w = width < 0 ? 0 : static_cast<std::size_t>(width);
    if (precision && text.size() > w) text = text.substr(0, w);
    if (!precision && text.size() >= w) return put(text);
    // As printf pads: by bytes (the texts are ASCII: headings, queue IDs,
    // dates, blanks).
    std::size_t fill = w - text.size();
    char small[128];
    std::string large;
    char* out = small;
    if (w > sizeof(small)) {
        large.resize(w);
        out = large.data();
    }
    if (left) {
        std::memcpy(out, text.data(), text.size());
        std::memset(out + text.size(), ' ', fill);
    } else {
        std::memset(out, ' ', fill);
        std::memcpy(out + fill, text.data(), text.size());
    }
    return formatted(w + kNumberRoom, std::string_view(out, w));
}

bool MailqListing::message_begin() {
    const Columns& c = long_ids_ ? kLong : kShort;
    if (count_ > 0) return put("\n");
    const char* const* h = long_ids_ ? kLongHeadings : kShortHeadings;
    return padded(h[0], c.id, true) && put(" ") && padded(h[1], c.size, false) && put(" ") &&
           padded(h[2], c.date, true) && put(" ") && put(h[3]) && put("\n");
}

bool MailqListing::message_header(const ListedMessage& msg) {
    const Columns& c = long_ids_ ? kLong : kShort;
    std::string& id_status = id_status_;
    id_status.assign(msg.queue_id);
    if (msg.queue_name == "active") id_status += '*';
    else if (msg.queue_name == "hold") id_status += '!';
    if (msg.forced_expire) id_status += '#';
    saved_reason_.clear();
    ++count_;
    total_size_ += static_cast<unsigned long>(msg.size);
    return padded(id_status, c.id, true) && put(" ") &&
           formatted(static_cast<std::size_t>(c.size) + kNumberRoom, right_aligned(msg.size, c.size)) &&
           put(" ") && padded(arrival_text(msg.arrival_time, 64), c.date, false, true) && put(" ") &&
           put(msg.sender) && put("\n");
}

bool MailqListing::recipient(const ListedRecipient& r) {
    const Columns& c = long_ids_ ? kLong : kShort;
    if (r.reason != saved_reason_) {
        saved_reason_ = r.reason;
        std::string_view shown = saved_reason_.empty() ? std::string_view("reason unavailable") : saved_reason_;
        int padding = 76 - static_cast<int>(shown.size());
        if (padding < 0) padding = 0;
        if (!padded("", padding, false) || !put("(") || !put(shown) || !put(")\n")) return false;
    }
    return padded("", c.id, true) && put(" ") && padded("", c.size, false) && put(" ") && padded("", c.date, true) &&
           put(" ") && put(r.address) && put("\n");
}

bool MailqListing::finish() {
    if (count_ == 0) return put("Mail queue is empty\n");
    return put(fmt::format("\n-- {} Kbytes in {} Request{}.\n", total_size_ / 1024, count_, count_ == 1 ? "" : "s"));
}

namespace {

// Whether json_quote() leaves text as it is (most strings).
bool json_plain(std::string_view text) {
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"') return false;
    }
    return true;
}

}  // namespace

std::string json_quote(std::string_view text, bool utf8) {
    if (json_plain(text)) return std::string(text);
    std::string out;
    out.reserve(text.size() + 8);
    for (unsigned char ch : text) {
        if (ch < 0x20 || ch == 0x7f) {
            switch (ch) {
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: out += fmt::format("\\u{:04X}", static_cast<unsigned>(ch)); break;
            }
        } else {
            if (ch == '\\' || ch == '"') out += '\\';
            out += static_cast<char>(ch);
        }
    }
    return util::printable(out, utf8);
}

std::string_view JsonListing::quoted(std::string_view text) {
    if (json_plain(text)) return text;
    scratch_ = json_quote(text, utf8_);
    return scratch_;
}

bool JsonListing::message_header(const ListedMessage& msg) {
    recipients_ = 0;
    return put("{") && put("\"queue_name\": \"") && put(quoted(msg.queue_name)) && put("\", ") &&
           put("\"queue_id\": \"") && put(quoted(msg.queue_id)) && put("\", ") &&
           put("\"arrival_time\": ") && formatted(kNumberRoom, decimal(msg.arrival_time)) && put(", ") &&
           put("\"message_size\": ") && formatted(kNumberRoom, decimal(msg.size)) && put(", ") &&
           put("\"forced_expire\": ") && put(msg.forced_expire ? "true" : "false") && put(", ") &&
           put("\"sender\": \"") && put(quoted(msg.sender)) && put("\", ") && put("\"recipients\": [");
}

bool JsonListing::recipient_begin() {
    if (recipients_++ > 0 && !put(", ")) return false;
    return put("{");
}

bool JsonListing::recipient(const ListedRecipient& r) {
    if (!put("\"address\": \"") || !put(quoted(r.address)) || !put("\"")) return false;
    if (!r.reason.empty() &&
        (!put(", \"delay_reason\": \"") || !put(quoted(r.reason)) || !put("\"")))
        return false;
    return put("}");
}

ReadStatus read_listing(AttrStream& in, Listing& listing, bool utf8, const std::function<void()>& message_done) {
    using Kind = AttrStream::Kind;
    std::vector<std::string> values;
    // The protocol announcement. Only a wrong protocol name or the end of
    // input fails it; another attribute in its place is warned about and
    // the reading goes on, as with the reference.
    static constexpr std::string_view kProtocol = "mail_queue_list_protocol";
    int got = in.scan({{"protocol"}}, values, true, [&in](std::size_t, const std::string& value) {
        if (value == kProtocol) return true;
        util::msg_warn("unexpected protocol {} from {} (expected: {})", value, in.name(), kProtocol);
        return false;
    });
    if (got < 0) return ReadStatus::malformed;
    static const std::vector<AttrStream::Expect> kHeader = {
        {"queue_name"}, {"queue_id"}, {"time", Kind::long_number}, {"size", Kind::long_number},
        {"forced_expire", Kind::int_number}, {"sender"}};
    static const std::vector<AttrStream::Expect> kRecipient = {{"recipient"}, {"reason"}};
    int status;
    // One message and one recipient, their strings reused throughout.
    ListedMessage msg;
    ListedRecipient rcpt;
    while ((status = in.more()) > 0) {
        if (!listing.message_begin()) return ReadStatus::output_error;
        if (in.scan(kHeader, values, false) != static_cast<int>(kHeader.size())) return ReadStatus::malformed;
        printable_into(msg.queue_name, values[0], utf8);
        printable_into(msg.queue_id, values[1], utf8);
        msg.arrival_time = static_cast<long>(*scan_number(values[2]));
        msg.size = static_cast<long>(*scan_number(values[3]));
        msg.forced_expire = static_cast<unsigned>(*scan_number(values[4])) != 0;
        printable_into(msg.sender, values[5], utf8);
        if (!listing.message_header(msg)) return ReadStatus::output_error;
        int rstatus;
        while ((rstatus = in.more()) > 0) {
            if (!listing.recipient_begin()) return ReadStatus::output_error;
            if (in.scan(kRecipient, values, false) != static_cast<int>(kRecipient.size())) return ReadStatus::malformed;
            printable_into(rcpt.address, values[0], utf8);
            printable_into(rcpt.reason, values[1], utf8);
            if (!listing.recipient(rcpt)) return ReadStatus::output_error;
        }
        if (!listing.recipients_end()) return ReadStatus::output_error;
        if (rstatus < 0) return ReadStatus::malformed;
        if (!listing.message_end()) return ReadStatus::output_error;
        if (message_done) message_done();
    }
    if (status < 0) return ReadStatus::malformed;
    if (!listing.finish()) return ReadStatus::output_error;
    return ReadStatus::ok;
}

}  // namespace pf::postqueue
