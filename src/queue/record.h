// Queue-file records, byte-compatible with the reference's queue files: one
// type byte, the data length in 7-bit groups (low-order group first, the
// high bit set on every byte but the last), then the data. The same framing
// carries a message from a client to cleanup over its socket.
//
// Trust: a queue file may be damaged or hostile (maildrop/ is writable by
// the postdrop group); the reader bounds every length and reports a bad
// record as an error value, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <expected>
#include <string>
#include <string_view>

namespace pf::queue {

// Record types, the reference's letters.
namespace rec {
inline constexpr char kSize = 'C';       // first record, written by cleanup
inline constexpr char kTime = 'T';       // arrival time
inline constexpr char kCreateTime = 'c'; // creation time
inline constexpr char kFullName = 'F';   // sender's full name
inline constexpr char kInspect = 'I';    // content inspection transport
inline constexpr char kFilter = 'L';     // content filter (same letter as kCont)
inline constexpr char kFrom = 'S';       // envelope sender
inline constexpr char kDone = 'D';       // recipient already delivered
inline constexpr char kRcpt = 'R';       // recipient to deliver
inline constexpr char kOrigRcpt = 'O';   // original recipient
inline constexpr char kDropped = '/';    // canceled recipient
inline constexpr char kWarn = 'W';       // time to send a delay warning
inline constexpr char kAttr = 'A';       // name=value attribute
inline constexpr char kKill = 'K';       // killed record
inline constexpr char kRedirect = '>';   // redirect target
inline constexpr char kFlags = 'f';      // cleanup processing flags
inline constexpr char kDelay = 'd';      // cleanup delay upon arrival
inline constexpr char kMessage = 'M';    // start of the message content
inline constexpr char kCont = 'L';       // content line continued in the next record
inline constexpr char kNorm = 'N';       // content line
inline constexpr char kPadding = 'w';    // padding (deleted data)
inline constexpr char kExtracted = 'X';  // start of the extracted records
inline constexpr char kReturnReceipt = 'r';
inline constexpr char kErrorsTo = 'e';
inline constexpr char kPriority = 'P';
inline constexpr char kPointer = 'p';    // continue reading at this offset
inline constexpr char kVerp = 'V';       // VERP delimiters
inline constexpr char kDsnRet = '<';
inline constexpr char kDsnEnvid = 'i';
inline constexpr char kDsnOrcpt = 'o';
inline constexpr char kDsnNotify = 'n';
inline constexpr char kMilterCount = 'm';
inline constexpr char kEnd = 'E';        // last record
}  // namespace rec

struct Record {
    char type = 0;
    std::string data;
};

enum class RecordError {
    eof,        // clean end of input before a type byte
    truncated,  // end of input inside a record
    too_long,   // length above the caller's limit
    bad_length, // length field longer than the format allows
    io,         // read error (errno is kept)
};

// The encoded form of one record.
std::string encode_record(char type, std::string_view data);
// The size of that encoded form: type byte, length bytes, data.
std::size_t encoded_record_size(std::size_t data_size);
void append_record(std::string& out, char type, std::string_view data);

// Decodes one record from the front of buf; on success, consumed is the
// number of bytes it took. truncated means "need more bytes".
std::expected<Record, RecordError> decode_record(std::string_view buf, std::size_t max_length,
                                                 std::size_t& consumed);

// The same without a copy: data points into buf (valid while buf is).
struct RecordView {
    char type = 0;
    std::string_view data;
};
std::expected<RecordView, RecordError> decode_record_view(std::string_view buf, std::size_t max_length,
                                                          std::size_t& consumed);

// Reads records from a stdio stream (queue files). consumed, when given,
// receives the bytes the record took on success (so readers can follow
// their offset without ftell, which costs a system call each).
std::expected<Record, RecordError> read_record(std::FILE* in, std::size_t max_length,
                                               std::size_t* consumed = nullptr);
// Writes one record; false on a write error.
bool write_record(std::FILE* out, char type, std::string_view data);

// The printable name of a record type, as the reference's postcat shows it
// in verbose and error output ("size", "time", "message_arrival_time"...).
std::string_view record_type_name(char type);

}  // namespace pf::queue
