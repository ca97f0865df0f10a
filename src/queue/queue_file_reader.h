// Reading queue files as the reference's postcat(1) and qmgr(8) do: records
// one by one (with the reference's options to follow 'p' pointer records,
// skip 'w' padding and jump to the end after 'E'), the fixed-width 'C' size
// record, and a walk over a whole file by section (envelope, message
// content, extracted information). See FORMAT.md beside this file for the
// record sequence the reference's cleanup(8) writes.
//
// Trust: a queue file may be damaged or hostile. Every length is bounded by
// the caller's limit or by what the file holds; pointer loops are cut after
// 10000 backward jumps; problems are warned about with the reference's texts
// (prefixed by the stream's path) and returned as kRecError, never a crash.
#pragma once

#include "queue/record.h"

#include <cstdio>
#include <expected>
#include <functional>
#include <string>
#include <string_view>

namespace pf::queue {

// Results of RecordReader::get besides a record type (0-255).
inline constexpr int kRecEof = -1;
inline constexpr int kRecError = -2;

// Options of RecordReader::get (the reference's REC_FLAG_*).
inline constexpr unsigned kFollowPointers = 1;  // 'p': continue at its offset
inline constexpr unsigned kSkipPadding = 2;     // 'w': skip
inline constexpr unsigned kSeekEnd = 4;         // 'E': then seek to end of file
inline constexpr unsigned kReadDefault = kFollowPointers | kSkipPadding | kSeekEnd;

// Record letters allowed in each section of a queue file.
inline constexpr std::string_view kEnvelopeTypes = "MCTcFILSDRO/WVA>K<ion";
inline constexpr std::string_view kContentTypes = "XLNw";
inline constexpr std::string_view kExtractedTypes = "EDRO/PreAFIL>Kon";

// The payload width of a 'p' record ("%15ld"), so it can be rewritten in
// place to point elsewhere.
inline constexpr int kPointerWidth = 15;

// A reader of records from a stdio stream it does not own.
class RecordReader {
public:
    RecordReader(std::FILE* in, std::string path) : in_(in), path_(std::move(path)) {}

    // The next record's type, or kRecEof / kRecError; its data in data.
    // max_length 0 means no limit (the file's own length field decides).
    int get(std::string& data, unsigned flags = kReadDefault, std::size_t max_length = 0);
    // Follows a 'p' record's value: 0 on success (also for the dummy
    // pointer "0"), kRecError after a warning.
    int go_to(std::string_view pointer);

    long tell() { return std::ftell(in_); }
    bool seek(long offset) { return std::fseek(in_, offset, SEEK_SET) == 0; }
    const std::string& path() const { return path_; }
    std::FILE* stream() { return in_; }

private:
    std::FILE* in_;
    std::string path_;
    long saved_offset_ = 0;
    int reverse_jumps_ = 0;
};

// The 'C' record: "%15ld %15ld %15ld %15ld %15ld %15ld", of which older
// files may have fewer fields. data_offset is where 'M' content starts
// (after the 'M' record), data_size the content length up to 'X'.
struct SizeRecord {
    long data_size = -1;
    long data_offset = -1;
    long rcpt_count = 0;
    long qmgr_flags = 0;
    long content_length = 0;
    long smtputf8 = 0;
    int fields = 0;  // how many fields were read
};
SizeRecord parse_size_record(const std::string& data);
std::string format_size_record(const SizeRecord& size);
// A 'p' record's payload pointing at offset.
std::string format_pointer(long offset);
// The offset a 'p' record's payload names (text up to a NUL, leading
// blanks skipped, decimal digits only, no overflow), -1 when malformed;
// text is set to what was parsed, for the warning.
long parse_pointer(std::string_view payload, std::string_view& text);

// Whether a content line starts a header ("Name:" with optional blanks
// before the colon), as the reference decides where the body starts.
bool is_header_line(std::string_view line);

// The sections of a queue file, in file order.
enum class Section { envelope, content, extracted };

struct WalkedRecord {
    Section section;
    char type;
    const std::string& data;
    long offset;  // of this record (or of the pointer that led to it)
};

// Walks a queue file from its start in logical order, following pointers:
// envelope records up to and including 'M', the content (only when
// with_content; otherwise skipped through the 'C' record's offsets), then
// 'X' and the extracted records up to 'E'. visit returns false to stop
// early. An error text for a damaged file (bad record, no 'E', content
// marker out of place).
std::expected<void, std::string> walk_queue_file(RecordReader& reader, bool with_content,
                                                 const std::function<bool(const WalkedRecord&)>& visit);

}  // namespace pf::queue
