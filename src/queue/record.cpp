// Queue-file record framing: see record.h.
#include "queue/record.h"

#include <cerrno>

namespace pf::queue {
namespace {

// Lengths up to 2^35 fit in five 7-bit groups; more groups is a damaged file.
constexpr int kMaxLengthBytes = 5;

}  // namespace

void append_record(std::string& out, char type, std::string_view data) {
    out.push_back(type);
    std::size_t len = data.size();
    do {
        unsigned char byte = len & 0x7f;
        len >>= 7;
        if (len != 0) byte |= 0x80;
        out.push_back(static_cast<char>(byte));
    } while (len != 0);
    out.append(data);
}

std::size_t encoded_record_size(std::size_t data_size) {
    std::size_t size = 2 + data_size;  // type byte, at least one length byte
    for (data_size >>= 7; data_size != 0; data_size >>= 7) ++size;
    return size;
}

std::string encode_record(char type, std::string_view data) {
    std::string out;
    out.reserve(data.size() + 6);
    append_record(out, type, data);
    return out;
}

std::expected<Record, RecordError> decode_record(std::string_view buf, std::size_t max_length,
                                                 std::size_t& consumed) {
    auto view = decode_record_view(buf, max_length, consumed);
    if (!view) return std::unexpected(view.error());
    return Record{view->type, std::string(view->data)};
}

std::expected<RecordView, RecordError> decode_record_view(std::string_view buf, std::size_t max_length,
                                                          std::size_t& consumed) {
    if (buf.empty()) return std::unexpected(RecordError::eof);
    std::size_t pos = 1;
    std::size_t len = 0;
    for (int shift = 0;; shift += 7) {
        if (shift / 7 >= kMaxLengthBytes) return std::unexpected(RecordError::bad_length);
        if (pos >= buf.size()) return std::unexpected(RecordError::truncated);
        auto byte = static_cast<unsigned char>(buf[pos++]);
        len |= static_cast<std::size_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) break;
    }
    if (max_length != 0 && len > max_length) return std::unexpected(RecordError::too_long);
    if (buf.size() - pos < len) return std::unexpected(RecordError::truncated);
    consumed = pos + len;
    return RecordView{buf[0], buf.substr(pos, len)};
}

std::expected<Record, RecordError> read_record(std::FILE* in, std::size_t max_length, std::size_t* consumed) {
    int type = std::getc(in);
    if (type == EOF) return std::unexpected(std::ferror(in) ? RecordError::io : RecordError::eof);
    std::size_t len = 0;
    std::size_t length_bytes = 1;
    for (int shift = 0;; shift += 7, ++length_bytes) {
        if (shift / 7 >= kMaxLengthBytes) return std::unexpected(RecordError::bad_length);
        int byte = std::getc(in);
        if (byte == EOF) return std::unexpected(std::ferror(in) ? RecordError::io : RecordError::truncated);
        len |= static_cast<std::size_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) break;
    }
    if (max_length != 0 && len > max_length) return std::unexpected(RecordError::too_long);
    Record record{static_cast<char>(type), std::string(len, '\0')};
    if (len != 0 && std::fread(record.data.data(), 1, len, in) != len)
        return std::unexpected(std::ferror(in) ? RecordError::io : RecordError::truncated);
    if (consumed != nullptr) *consumed = 1 + length_bytes + len;
    return record;
}

bool write_record(std::FILE* out, char type, std::string_view data) {
    // Type and length into the stream's buffer, then the data: no copy of
    // the data (this runs once per content line).
    char head[1 + 10];  // a 64-bit length takes at most ten 7-bit groups
    std::size_t n = 0;
    head[n++] = type;
    std::size_t len = data.size();
    do {
        unsigned char byte = len & 0x7f;
        len >>= 7;
        if (len != 0) byte |= 0x80;
        head[n++] = static_cast<char>(byte);
    } while (len != 0);
    return std::fwrite(head, 1, n, out) == n &&
           (data.empty() || std::fwrite(data.data(), 1, data.size(), out) == data.size());
}

// The reference's table of names; 'L' is both the content filter (in the
// envelope) and continued text (in the content) and is named after the
// first, as the reference's lookup finds that one first.
std::string_view record_type_name(char type) {
    switch (type) {
        case rec::kSize: return "message_size";
        case rec::kTime: return "message_arrival_time";
        case rec::kCreateTime: return "queue_file_create_time";
        case rec::kFullName: return "sender_fullname";
        case rec::kInspect: return "content_inspector";
        case rec::kFilter: return "content_filter";
        case rec::kFrom: return "sender";
        case rec::kDone: return "done_recipient";
        case rec::kRcpt: return "recipient";
        case rec::kOrigRcpt: return "original_recipient";
        case rec::kDropped: return "canceled_recipient";
        case rec::kWarn: return "warning_message_time";
        case rec::kAttr: return "named_attribute";
        case rec::kKill: return "killed_record";
        case rec::kRedirect: return "redirect_to";
        case rec::kFlags: return "flags";
        case rec::kMessage: return "message_content";
        case rec::kNorm: return "regular_text";
        case rec::kPadding: return "padding";
        case rec::kExtracted: return "extracted_info";
        case rec::kReturnReceipt: return "return_receipt";
        case rec::kErrorsTo: return "errors_to";
        case rec::kPriority: return "priority";
        case rec::kPointer: return "pointer_record";
        case rec::kVerp: return "verp_delimiters";
        case rec::kDsnRet: return "dsn_return_flags";
        case rec::kDsnEnvid: return "dsn_envelope_id";
        case rec::kDsnOrcpt: return "dsn_original_recipient";
        case rec::kDsnNotify: return "dsn_notify_flags";
        case rec::kEnd: return "message_end";
        // 'd' and 'm' have no name in the reference either.
        default: return "unknown_record_type";
    }
}

}  // namespace pf::queue
