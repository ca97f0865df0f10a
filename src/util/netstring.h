// Netstrings ("<decimal length>:<bytes>,", D. J. Bernstein's encoding) as
// QMQP (qmqpd(8), qmqp-source(1), qmqp-sink(1)) speaks them, with the
// reference's error classes: the peer went away (eof), no byte within the
// time limit (timeout), a byte that does not belong (format: a non-digit in
// the length, a missing ':' or ','), and a length past the caller's limit
// or past what a signed 64-bit count holds (size).
//
// The reader pulls bytes from a source function, so the same parser reads
// a socket with a deadline per read and, in tests and the fuzz harness, a
// string. Data is appended as it arrives: a length claim is never trusted
// for an allocation up front.
//
// Trust: every byte read is hostile; nothing is assumed about the lengths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>

namespace pf::util {

enum class NetstringError { eof, timeout, format, size };

// The reference's wording for each error, as its netstring_strerror().
std::string_view netstring_strerror(NetstringError error);

class NetstringReader {
public:
    // Fills buf with up to size bytes: the count read, 0 at the end of the
    // input, or an error (eof or timeout).
    using Source = std::function<std::expected<std::size_t, NetstringError>(char* buf, std::size_t size)>;

    explicit NetstringReader(Source source);
    // A source reading fd, waiting at most timeout seconds for each read
    // (0: no limit).
    static Source fd_source(int fd, int timeout);
    // A source handing out text (tests, fuzzing), chunk bytes at a time
    // (0: all at once).
    static Source string_source(std::string_view text, std::size_t chunk = 0);

    // The length before ':' (decimal digits only). An empty digit string
    // counts as 0, as the reference reads it.
    std::expected<std::int64_t, NetstringError> get_length();
    // Exactly len bytes appended to out, then the ',' terminator.
    std::expected<void, NetstringError> get_data(std::string& out, std::int64_t len);
    // A whole netstring into out (replacing its content); a length above
    // limit is a size error (limit <= 0: no limit).
    std::expected<void, NetstringError> get(std::string& out, std::int64_t limit);
    // True (and the ',' consumed) when the next byte is ',', false (nothing
    // consumed) for another byte; eof/timeout at the end of the input.
    std::expected<bool, NetstringError> take_terminator();

    // Bytes consumed so far.
    std::uint64_t consumed() const { return consumed_; }

private:
    std::expected<unsigned char, NetstringError> next_byte();
    std::expected<void, NetstringError> fill();

    Source source_;
    std::string buf_;
    std::size_t pos_ = 0;
    std::uint64_t consumed_ = 0;
};

// "<len>:<data>," appended to out / returned.
void netstring_append(std::string& out, std::string_view data);
std::string netstring_encode(std::string_view data);

// Writes all of data to fd, waiting at most timeout seconds for each write
// (0: no limit); eof (peer gone, write error) or timeout otherwise.
std::expected<void, NetstringError> netstring_write(int fd, std::string_view data, int timeout);

}  // namespace pf::util
