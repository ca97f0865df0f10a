// Queue-file reading: see queue_file_reader.h. The warning texts and the
// length decoding (at most five 7-bit groups, summed in a C int as the
// reference does, so a fifth group with high bits gives a negative and
// therefore illegal length) reproduce the reference's record reader.
#include "queue/queue_file_reader.h"

#include "util/msg.h"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <fmt/core.h>

namespace pf::queue {
namespace {

constexpr int kReverseJumpLimit = 10000;
constexpr std::size_t kChunk = 64 * 1024;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The text up to the first NUL (how the reference sees a record as a string).
std::string_view c_string(std::string_view data) {
    auto nul = data.find('\0');
    return nul == std::string_view::npos ? data : data.substr(0, nul);
}

}  // namespace

int RecordReader::get(std::string& data, unsigned flags, std::size_t max_length) {
    for (;;) {
        int type = std::getc(in_);
        if (type == EOF) return kRecEof;
        // Sum the groups as a C int, then widen, as the reference does.
        long len = 0;
        for (unsigned shift = 0;; shift += 7) {
            if (shift >= 32) {
                util::msg_warn("{}: too many length bits, record type {}", path_, type);
                return kRecError;
            }
            int byte = std::getc(in_);
            if (byte == EOF) {
                util::msg_warn("{}: unexpected EOF reading length, record type {}", path_, type);
                return kRecError;
            }
            auto group = static_cast<std::uint32_t>(byte & 0x7f) << shift;
            len |= static_cast<long>(static_cast<std::int32_t>(group));
            if ((byte & 0x80) == 0) break;
        }
        if (len < 0 || (max_length > 0 && static_cast<std::size_t>(len) > max_length)) {
            util::msg_warn("{}: illegal length {}, record type {}", path_, len, type);
            while (len-- > 0 && std::getc(in_) != EOF) {
            }
            return kRecError;
        }
        // Read in chunks: a hostile length must not allocate before the
        // bytes are there.
        data.clear();
        std::size_t want = static_cast<std::size_t>(len);
        while (data.size() < want) {
            std::size_t step = std::min(kChunk, want - data.size());
            std::size_t have = data.size();
            data.resize(have + step);
            std::size_t got = std::fread(data.data() + have, 1, step, in_);
            data.resize(have + got);
            if (got != step) break;
        }
        if (data.size() != want) {
            util::msg_warn("{}: unexpected EOF in data, record type {} length {}", path_, type, len);
            return kRecError;
        }
        if (flags == 0) return type;
        if (type == rec::kPointer && (flags & kFollowPointers) != 0) {
            type = go_to(data);
            if (type != kRecError) continue;
        }
        if (type == rec::kPadding && (flags & kSkipPadding) != 0) continue;
        if (type == rec::kEnd && (flags & kSeekEnd) != 0 && std::fseek(in_, 0, SEEK_END) != 0) {
            util::msg_warn("{}: seek error after reading END record: {}", path_, std::strerror(errno));
            return kRecError;
        }
        return type;
    }
}

long parse_pointer(std::string_view payload, std::string_view& text) {
    text = c_string(payload);
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    // As the reference's off_cvt_string: decimal digits only, no sign.
    long result = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return -1;
        int digit = c - '0';
        if (result > LONG_MAX / 10 || result * 10 > LONG_MAX - digit) return -1;
        result = result * 10 + digit;
    }
    return result;
}

int RecordReader::go_to(std::string_view pointer) {
    std::string_view text;
    long offset = parse_pointer(pointer, text);
    if (offset < 0) {
        util::msg_warn("{}: malformed pointer record value: {}", path_, text);
        return kRecError;
    }
    if (offset == 0) return 0;  // a placeholder that points nowhere
    if (offset <= saved_offset_ && ++reverse_jumps_ > kReverseJumpLimit) {
        util::msg_warn("{}: too many reverse jump records", path_);
        return kRecError;
    }
    if (std::fseek(in_, offset, SEEK_SET) != 0) {
        util::msg_warn("{}: seek error after pointer record: {}", path_, std::strerror(errno));
        return kRecError;
    }
    saved_offset_ = offset;
    return 0;
}

SizeRecord parse_size_record(const std::string& data) {
    SizeRecord size;
    int n = std::sscanf(data.c_str(), "%ld %ld %ld %ld %ld %ld", &size.data_size, &size.data_offset,
                        &size.rcpt_count, &size.qmgr_flags, &size.content_length, &size.smtputf8);
    size.fields = n < 0 ? 0 : n;
    return size;
}

std::string format_size_record(const SizeRecord& size) {
    return fmt::format("{:15} {:15} {:15} {:15} {:15} {:15}", size.data_size, size.data_offset, size.rcpt_count,
                       size.qmgr_flags, size.content_length, size.smtputf8);
}

std::string format_pointer(long offset) { return fmt::format("{:15}", offset); }

bool is_header_line(std::string_view line) {
    line = c_string(line);
    enum { kInit, kInName, kInSpace } state = kInit;
    for (char ch : line) {
        auto c = static_cast<unsigned char>(ch);
        if (c == ':') return state != kInit;
        if (c == ' ' || c == '\t') {
            if (state == kInit) return false;
            state = kInSpace;
            continue;
        }
        if (c >= 0x80 || c < 0x20 || c == 0x7f) return false;
        if (state == kInSpace) return false;
        state = kInName;
    }
    return false;
}

std::expected<void, std::string> walk_queue_file(RecordReader& reader, bool with_content,
                                                 const std::function<bool(const WalkedRecord&)>& visit) {
    if (!reader.seek(0)) return std::unexpected(fmt::format("{}: seek error: {}", reader.path(), std::strerror(errno)));
    Section section = Section::envelope;
    SizeRecord size;
    bool have_size = false;
    std::string data;
    for (;;) {
        long offset = reader.tell();
        int type = reader.get(data, kFollowPointers | kSkipPadding);
        if (type == kRecEof) return std::unexpected(fmt::format("{}: premature end of file", reader.path()));
        if (type == kRecError) return std::unexpected(fmt::format("{}: corrupt queue file", reader.path()));
        char letter = static_cast<char>(type);
        std::string_view allowed = section == Section::envelope  ? kEnvelopeTypes
                                   : section == Section::content ? kContentTypes
                                                                 : kExtractedTypes;
        if (allowed.find(letter) == std::string_view::npos || letter == '\0')
            return std::unexpected(fmt::format("{}: unexpected record type {} in {}", reader.path(), type,
                                               section == Section::envelope  ? "envelope"
                                               : section == Section::content ? "message content"
                                                                             : "extracted information"));
        if (letter == rec::kSize && section == Section::envelope && !have_size) {
            size = parse_size_record(data);
            have_size = true;
        }
        if (letter == rec::kExtracted) section = Section::extracted;
        if (!visit(WalkedRecord{section, letter, data, offset})) return {};
        if (letter == rec::kEnd) return {};
        if (letter == rec::kMessage) {
            section = Section::content;
            if (!with_content) {
                if (!have_size || size.fields < 2 || size.data_offset <= 0 || size.data_size < 0)
                    return std::unexpected(fmt::format("{}: no valid size record", reader.path()));
                if (!reader.seek(size.data_offset + size.data_size))
                    return std::unexpected(fmt::format("{}: seek error: {}", reader.path(), std::strerror(errno)));
            }
        }
    }
}

}  // namespace pf::queue
