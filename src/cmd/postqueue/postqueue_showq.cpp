// postqueue(1)'s showq client and listings; see postqueue_showq.h.
#include "cmd/postqueue/postqueue_showq.h"

#include "util/utf8.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>

namespace pf::postqueue {

namespace {

// Bounds on what the reader accepts from the server.
constexpr std::size_t kMaxName = 100;
constexpr std::size_t kMaxValue = 1u << 24;

// The reference's mailq columns.
struct Columns {
    int id;
    int size;
    int date;
};
constexpr Columns kShort{11, 7, 20};
constexpr Columns kLong{17, 8, 19};

// asctime() of the local time, cut to width characters.
std::string arrival_text(long when, int width) {
    std::time_t t = static_cast<std::time_t>(when);
    struct tm tm {};
    char buf[64] = "";
    if (::localtime_r(&t, &tm) == nullptr || ::asctime_r(&tm, buf) == nullptr) buf[0] = 0;
    std::string text(buf);
    if (text.size() > static_cast<std::size_t>(width)) text.resize(static_cast<std::size_t>(width));
    return text;
}

// A decimal number as the reference's attribute scanner takes it: the
// whole value must be one number.
template <typename T>
std::optional<T> parse_number(const std::string& text) {
    if (text.empty()) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno != 0 || end == text.c_str() || *end != 0) return std::nullopt;
    return static_cast<T>(v);
}

}  // namespace

int AttrStream::peek() {
    if (pos_ < buffer_.size()) return static_cast<unsigned char>(buffer_[pos_]);
    if (eof_) return -1;
    if (pos_ > 0) {
        buffer_.clear();
        pos_ = 0;
    }
    char chunk[65536];
    long n = read_(chunk, sizeof(chunk));
    if (n <= 0) {
        eof_ = true;
        return -1;
    }
    buffer_.assign(chunk, static_cast<std::size_t>(n));
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

std::optional<std::string> AttrStream::cstring() {
    std::string out;
    for (;;) {
        if (peek() < 0) return std::nullopt;
        std::size_t nul = buffer_.find('\0', pos_);
        std::size_t end = nul == std::string::npos ? buffer_.size() : nul;
        out.append(buffer_, pos_, end - pos_);
        pos_ = end;
        if (out.size() > kMaxValue) return std::nullopt;
        if (nul != std::string::npos) {
            ++pos_;
            return out;
        }
    }
}

std::optional<std::pair<std::string, std::string>> AttrStream::attribute() {
    auto name = cstring();
    if (!name || name->empty() || name->size() > kMaxName) return std::nullopt;
    auto value = cstring();
    if (!value) return std::nullopt;
    return std::make_pair(std::move(*name), std::move(*value));
}

bool MailqListing::message(const ListedMessage& msg) {
    const Columns& c = long_ids_ ? kLong : kShort;
    std::string text;
    if (count_ > 0) {
        text = "\n";
    } else if (long_ids_) {
        text = fmt::format("{:<{}} {:>{}} {:<{}} {}\n", "----Queue ID-----", c.id, "--Size--", c.size,
                           "---Arrival Time----", c.date, "--Sender/Recipient------");
    } else {
        text = fmt::format("{:<{}} {:>{}} {:<{}} {}\n", "-Queue ID-", c.id, "--Size--", c.size,
                           "----Arrival Time----", c.date, "-Sender/Recipient-------");
    }
    std::string id_status = msg.queue_id;
    if (msg.queue_name == "active") id_status += '*';
    else if (msg.queue_name == "hold") id_status += '!';
    if (msg.forced_expire) id_status += '#';
    text += fmt::format("{:<{}} {:>{}} {:>{}} {}\n", id_status, c.id, msg.size, c.size,
                        arrival_text(msg.arrival_time, c.date), c.date, msg.sender);
    std::string saved_reason;
    for (const auto& r : msg.recipients) {
        if (r.reason != saved_reason) {
            saved_reason = r.reason;
            std::string_view shown = saved_reason.empty() ? std::string_view("reason unavailable") : saved_reason;
            int padding = 76 - static_cast<int>(shown.size());
            if (padding < 0) padding = 0;
            text.append(static_cast<std::size_t>(padding), ' ');
            text += '(';
            text += shown;
            text += ")\n";
        }
        text.append(static_cast<std::size_t>(c.id + c.size + c.date + 3), ' ');
        text += r.address;
        text += '\n';
    }
    ++count_;
    total_size_ += static_cast<unsigned long>(msg.size);
    return out_(text);
}

bool MailqListing::finish() {
    if (count_ == 0) return out_("Mail queue is empty\n");
    return out_(fmt::format("\n-- {} Kbytes in {} Request{}.\n", total_size_ / 1024, count_, count_ == 1 ? "" : "s"));
}

std::string json_quote(std::string_view text, bool utf8) {
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

bool JsonListing::message(const ListedMessage& msg) {
    std::string text = "{";
    text += fmt::format("\"queue_name\": \"{}\", ", json_quote(msg.queue_name, utf8_));
    text += fmt::format("\"queue_id\": \"{}\", ", json_quote(msg.queue_id, utf8_));
    text += fmt::format("\"arrival_time\": {}, ", msg.arrival_time);
    text += fmt::format("\"message_size\": {}, ", msg.size);
    text += fmt::format("\"forced_expire\": {}, ", msg.forced_expire ? "true" : "false");
    text += fmt::format("\"sender\": \"{}\", ", json_quote(msg.sender, utf8_));
    text += "\"recipients\": [";
    bool first = true;
    for (const auto& r : msg.recipients) {
        if (!first) text += ", ";
        first = false;
        text += fmt::format("{{\"address\": \"{}\"", json_quote(r.address, utf8_));
        if (!r.reason.empty()) text += fmt::format(", \"delay_reason\": \"{}\"", json_quote(r.reason, utf8_));
        text += "}";
    }
    text += "]}\n";
    return out_(text);
}

ReadStatus read_listing(AttrStream& in, Listing& listing, bool utf8) {
    // The protocol announcement and its terminator.
    {
        auto proto = in.more() > 0 ? in.attribute() : std::nullopt;
        if (!proto || proto->first != "protocol" || proto->second != "mail_queue_list_protocol" || in.more() != 0)
            return ReadStatus::malformed;
    }
    static const char* const kHeader[] = {"queue_name", "queue_id", "time", "size", "forced_expire", "sender"};
    int status;
    ListedMessage msg;
    while ((status = in.more()) > 0) {
        msg = ListedMessage{};
        std::string values[6];
        for (int k = 0; k < 6; ++k) {
            if (k > 0 && in.more() <= 0) return ReadStatus::malformed;
            auto a = in.attribute();
            if (!a || a->first != kHeader[k]) return ReadStatus::malformed;
            values[k] = std::move(a->second);
        }
        msg.queue_name = util::printable(values[0], utf8);
        msg.queue_id = util::printable(values[1], utf8);
        auto when = parse_number<long>(values[2]);
        auto size = parse_number<long>(values[3]);
        auto expired = parse_number<int>(values[4]);
        if (!when || !size || !expired) return ReadStatus::malformed;
        msg.arrival_time = *when;
        msg.size = *size;
        msg.forced_expire = *expired != 0;
        msg.sender = util::printable(values[5], utf8);
        int rstatus;
        while ((rstatus = in.more()) > 0) {
            auto rcpt = in.attribute();
            if (!rcpt || rcpt->first != "recipient" || in.more() <= 0) return ReadStatus::malformed;
            auto why = in.attribute();
            if (!why || why->first != "reason") return ReadStatus::malformed;
            msg.recipients.push_back({util::printable(rcpt->second, utf8), util::printable(why->second, utf8)});
        }
        if (rstatus < 0) return ReadStatus::malformed;
        if (!listing.message(msg)) return ReadStatus::output_error;
    }
    if (status < 0) return ReadStatus::malformed;
    if (!listing.finish()) return ReadStatus::output_error;
    return ReadStatus::ok;
}

}  // namespace pf::postqueue
