// postcat(1): printing one queue file. Reproduces the reference 3.7.11's
// output byte for byte: the "*** ... ***" section markers, "name: value"
// lines for envelope records (times through localtime() and asctime(),
// as the reference formats them), header and body text as it is, and the
// choices it makes while walking: text lines count as body from the first
// line in the header section that is neither a header nor a continuation;
// with the content not wanted it jumps over it through the 'C' record's
// offsets; without -v it follows pointer records and skips padding silently.
//
// Trust: the file is untrusted; the record reader bounds every length and
// every problem ends in the reference's warning or fatal error.
#include "cmd/postcat/postcat.h"

#include "queue/queue_file_reader.h"
#include "queue/record.h"
#include "util/msg.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fmt/core.h>
#include <string>

namespace pf::postcat {
namespace {

using queue::rec::kCont;
using queue::rec::kNorm;

enum class State { envelope, header, body };

bool text_record(int type) { return type == kCont || type == kNorm; }

// Output is held back and written only where the reference flushes its
// output stream (after each record, at section markers); what is still held
// at exit or at a fatal error is lost, as in the reference (an empty file
// prints nothing, not even its envelope marker).
std::string pending;

void out(std::string_view text) { pending.append(text); }

void flush() {
    if (!pending.empty()) std::fwrite(pending.data(), 1, pending.size(), stdout);
    pending.clear();
    std::fflush(stdout);
}

// The record's data as the reference's "%s" shows it: up to the first NUL.
std::string_view c_str(const std::string& data) { return {data.c_str()}; }

// asctime(localtime(t)) with its newline, as the reference prints times.
std::string time_text(long seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm* tm = std::localtime(&t);
    const char* text = tm != nullptr ? std::asctime(tm) : nullptr;
    return text != nullptr ? text : "(null)";
}

// The reference's split_nameval on a record's string: nullptr on success.
const char* split_attribute(std::string_view text, std::string& name, std::string& value) {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    std::size_t p = 0;
    while (p < text.size() && space(text[p])) ++p;
    if (p == text.size() || text[p] == '=') return "missing attribute name";
    std::size_t name_start = p;
    while (p < text.size() && !space(text[p]) && text[p] != '=') ++p;
    std::size_t name_end = p;
    while (p < text.size() && space(text[p])) ++p;
    if (p == text.size() || text[p] != '=') return "missing '=' after attribute name";
    ++p;
    while (p < text.size() && space(text[p])) ++p;
    std::size_t value_end = text.size();
    while (value_end > p && space(text[value_end - 1])) --value_end;
    name.assign(text.substr(name_start, name_end - name_start));
    value.assign(text.substr(p, value_end - p));
    return nullptr;
}

void print_prefix(int flags, long offset, int type) {
    if (flags & kPrintOffset) out(fmt::format("{:9} ", static_cast<unsigned long>(offset)));
    if (flags & kPrintTypeDecimal) out(fmt::format("{:3} ", type));
}

void print_marker(int flags, long offset, int type, std::string_view text, const std::string& path) {
    print_prefix(flags, offset, type);
    out(fmt::format("*** {} {} ***\n", text, path));
    flush();
}

void print_record(int flags, long offset, int type, const std::string& data) {
    print_prefix(flags, offset, type);
    out(fmt::format("{}: {}\n", queue::record_type_name(static_cast<char>(type)), c_str(data)));
    flush();
}

}  // namespace

void dump_queue_file(std::FILE* fp, const std::string& path, int flags, long start_offset) {
    const bool verbose = util::msg_verbose > 0;
    queue::RecordReader reader(fp, path);
    std::string buffer;
    long offset = 0;

    // Skip to the starting offset: by reading on standard input, by
    // seeking elsewhere.
    if (start_offset > 0) {
        if (fp == stdin) {
            for (long skipped = 0; skipped < start_offset; ++skipped)
                if (std::getc(fp) == EOF)
                    util::msg_fatal("{}: skip {} bytes failed after {}", path, start_offset, skipped);
        } else if (std::fseek(fp, start_offset, SEEK_SET) != 0) {
            util::msg_fatal("{}: seek to {}: {}", path, start_offset, std::strerror(errno));
        }
    }

    // A queue file starts with an envelope record.
    if (start_offset == 0) {
        int ch = std::getc(fp);
        if (ch != EOF) {
            if (ch == 0 || queue::kEnvelopeTypes.find(static_cast<char>(ch)) == std::string_view::npos) {
                util::msg_warn("{}: input is not a valid queue file", path);
                return;
            }
            std::ungetc(ch, fp);
        }
    }
    if (start_offset == 0 && (flags & kPrintEnvelope)) {
        out(fmt::format("*** ENVELOPE RECORDS {} ***\n", path));
    }

    State state = State::envelope;
    int do_print = flags & kPrintEnvelope;
    long data_offset = -1;
    long data_size = -1;
    int prev_type = 0;
    const unsigned rec_flags = verbose ? 0 : queue::kReadDefault;

    for (;;) {
        if (flags & kPrintOffset) offset = reader.tell();
        int rec_type = reader.get(buffer, rec_flags);
        if (rec_type == queue::kRecError) util::msg_fatal("record read error");
        if (rec_type == queue::kRecEof) break;

        if (text_record(rec_type)) {
            // Header text ends at the first line that neither starts a
            // header nor continues one (also wrong for a body that starts
            // with white space, as in the reference).
            if (state == State::header && (flags & kPrintText) && prev_type != kCont &&
                !(queue::is_header_line(buffer) || buffer[0] == ' ' || buffer[0] == '\t')) {
                state = State::body;
                do_print = flags & kPrintBody;
                if (do_print == 0 && (flags & kPrintEnvelope) == 0) break;
                if (do_print == 0 && (flags & kPrintEnvelope) && data_offset >= 0 && data_size >= 0 &&
                    !reader.seek(data_offset + data_size))
                    util::msg_fatal("seek error: {}", std::strerror(errno));
            }
        } else if (rec_type == queue::rec::kMessage) {
            if (state != State::envelope) util::msg_warn("{}: out-of-order message content marker", path);
            if (flags & kPrintEnvelope) print_marker(flags, offset, rec_type, "MESSAGE CONTENTS", path);
            if ((flags & kPrintText) == 0 && data_offset >= 0 && data_size >= 0 &&
                !reader.seek(data_offset + data_size))
                util::msg_fatal("seek error: {}", std::strerror(errno));
            state = State::header;
            do_print = flags & kPrintHeader;
            continue;
        } else if (rec_type == queue::rec::kExtracted) {
            if (state != State::header && state != State::body)
                util::msg_warn("{}: out-of-order extracted segment marker", path);
            if (do_print && prev_type == kCont) out("\n");
            if (flags & kPrintEnvelope) print_marker(flags, offset, rec_type, "HEADER EXTRACTED", path);
            state = State::envelope;
            do_print = flags & kPrintEnvelope;
            if (do_print == 0) break;
            continue;
        } else if (rec_type == queue::rec::kEnd) {
            if (state != State::envelope) util::msg_warn("{}: out-of-order message end marker", path);
            if (flags & kPrintEnvelope) print_marker(flags, offset, rec_type, "MESSAGE FILE END", path);
            if (flags & kRaw) continue;
            break;
        } else if (rec_type == queue::rec::kPointer) {
            // Seen only with -v: without it the reader follows pointers.
            if (do_print) print_record(flags, offset, rec_type, buffer);
            if ((flags & kRaw) == 0 && reader.go_to(buffer) == queue::kRecError)
                util::msg_fatal("bad pointer record, or input is not seekable");
            continue;
        } else if (rec_type == queue::rec::kSize) {
            if (do_print) print_record(flags, offset, rec_type, buffer);
            if (data_size >= 0 || data_offset >= 0) {
                util::msg_warn("file contains multiple size records");
            } else {
                // Partial assignment on a short match, as sscanf does.
                int n = std::sscanf(buffer.c_str(), "%ld %ld", &data_size, &data_offset);
                if (n != 2 || data_offset <= 0 || data_size <= 0)
                    util::msg_warn("invalid size record: {}", c_str(buffer).substr(0, 100));
                if ((flags & kPrintEnvelope) == 0) {
                    if (!reader.seek(data_offset)) util::msg_fatal("seek error: {}", std::strerror(errno));
                    state = State::header;
                    do_print = flags & kPrintHeader;
                }
            }
            continue;
        }

        if (do_print == 0) continue;

        print_prefix(flags, offset, rec_type);
        const auto name = queue::record_type_name(static_cast<char>(rec_type));
        switch (rec_type) {
        case queue::rec::kTime: {
            // seconds, then the digits after them are the microseconds
            long seconds = std::atol(buffer.c_str());
            out(fmt::format("{}: {}", name, time_text(seconds)));
            break;
        }
        case queue::rec::kWarn:
            out(fmt::format("{}: {}", name, time_text(std::atol(buffer.c_str()))));
            break;
        case kCont:  // also the content filter in the envelope
            if (state == State::envelope)
                out(fmt::format("{}: ", name));
            else if (verbose)
                out("unterminated_text: ");
            out(buffer);
            if (state == State::envelope || verbose || (flags & kPrintOffset)) {
                rec_type = 0;
                out("\n");
            }
            break;
        case kNorm:
            if (verbose) out(fmt::format("{}: ", name));
            out(buffer);
            out("\n");
            break;
        case queue::rec::kPadding:
            out(fmt::format("{}: ", name));
            out(buffer);
            out("\n");
            break;
        case queue::rec::kAttr: {
            std::string attr_name;
            std::string attr_value;
            if (const char* error = split_attribute(c_str(buffer), attr_name, attr_value)) {
                util::msg_warn("{}: malformed attribute: {}: {}", path, error, c_str(buffer).substr(0, 100));
                break;
            }
            if (attr_name == "create_time")
                out(fmt::format("create_time: {}", time_text(std::atol(attr_value.c_str()))));
            else
                out(fmt::format("{}: {}={}\n", name, attr_name, attr_value));
            break;
        }
        default:
            out(fmt::format("{}: {}\n", name, c_str(buffer)));
            break;
        }
        prev_type = rec_type;
        flush();
    }
}

}  // namespace pf::postcat
