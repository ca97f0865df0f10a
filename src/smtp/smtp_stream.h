// The byte stream of one SMTP conversation, as the reference's smtp_stream
// module reads and writes it: lines bounded by a length limit (the rest of
// an over-long line is either returned in later pieces or skipped), the
// line ending classified (CRLF, bare LF, none), trailing CRs removed, exact
// byte counts for BDAT chunks, buffered replies flushed in one write, and
// one time limit per read or write call (smtpd_timeout).
//
// After a STARTTLS handshake the same stream runs over a transport object
// (StreamTransport, implemented by pf::tls) that reads and writes the
// plaintext of the encrypted connection; without one, read(2)/send(2) on
// the socket as before.
//
// Trust: the peer is remote and hostile. Every read is bounded by the
// caller's limit; nothing here interprets the bytes.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

namespace pf::smtp {

enum class StreamError {
    kEof,      // the peer closed the connection (or a read error)
    kTimeout,  // no progress within the time limit
    kBroken,   // write error (peer gone)
};

// How a line read by read_line() ended.
enum class LineEnd {
    kCrLf,   // "...\r\n" (any number of CRs before the LF are removed)
    kBareLf, // "...\n" without CR before it
    kNone,   // cut at the length limit (more of the line follows) or at EOF
};

struct Line {
    std::string text;           // without the line ending
    LineEnd end = LineEnd::kCrLf;
    bool bare_cr = false;       // a CR not followed by LF inside text
};

// The byte pipe under an SmtpStream once it is no longer the bare socket
// (TLS). Each call gets the stream's time limit in seconds.
class StreamTransport {
public:
    virtual ~StreamTransport() = default;
    // Up to len bytes (at least one), or kEof / kTimeout.
    virtual std::expected<std::size_t, StreamError> read(char* buf, std::size_t len, int timeout) = 0;
    // All len bytes, or kBroken / kTimeout.
    virtual std::expected<void, StreamError> write(const char* buf, std::size_t len, int timeout) = 0;
    // Whether plaintext is already decoded and waiting inside the transport.
    virtual bool pending() const = 0;
};

class SmtpStream {
public:
    // fd is borrowed: the owner closes it.
    explicit SmtpStream(int fd, int timeout_seconds = 300) : fd_(fd), timeout_(timeout_seconds) {}

    void set_timeout(int seconds) { timeout_ = seconds; }
    int timeout() const { return timeout_; }
    int fd() const { return fd_; }

    // Reads up to limit bytes of a line (limit 0: no limit). When the line
    // is longer: with skip_rest the remainder up to and including the LF is
    // read and dropped (the result then ends as the line did), otherwise the
    // piece is returned with LineEnd::kNone and the next call returns more.
    // A final piece without LF before EOF is returned as kNone; EOF with
    // nothing read is an error.
    std::expected<Line, StreamError> read_line(std::size_t limit, bool skip_rest);
    // Reads exactly n bytes (BDAT), handing them to sink in pieces.
    template <typename Sink>
    std::expected<void, StreamError> read_exact(std::size_t n, Sink&& sink) {
        while (n > 0) {
            if (pos_ == buf_.size()) {
                if (auto r = fill(); !r) return std::unexpected(r.error());
            }
            std::size_t take = std::min(n, buf_.size() - pos_);
            sink(std::string_view(buf_).substr(pos_, take));
            pos_ += take;
            n -= take;
        }
        compact();
        return {};
    }
    // Whether input is already waiting (buffered, or readable now: then
    // what is there is read into the buffer): the reference's "improper
    // command pipelining" test.
    bool input_pending();
    // Bytes already buffered but not yet consumed.
    std::size_t buffered() const { return buf_.size() - pos_; }
    // A copy of up to max buffered bytes, without consuming them.
    std::string peek_buffered(std::size_t max) const { return buf_.substr(pos_, max); }

    // Queues text (a reply line with its CRLF); flush() writes it out.
    void write(std::string_view text) { out_ += text; }
    std::expected<void, StreamError> flush();
    bool has_output() const { return !out_.empty(); }

    // Switches reading and writing to transport (borrowed: its owner keeps
    // it alive while the stream uses it; nullptr goes back to the socket).
    // Buffered input and output are discarded: after STARTTLS nothing sent
    // in the clear may be taken as part of the encrypted conversation.
    void set_transport(StreamTransport* transport) {
        transport_ = transport;
        buf_.clear();
        pos_ = 0;
        out_.clear();
    }
    StreamTransport* transport() const { return transport_; }

private:
    std::expected<void, StreamError> fill();
    void compact();

    int fd_;
    int timeout_;
    std::string buf_;
    std::size_t pos_ = 0;
    std::string out_;
    StreamTransport* transport_ = nullptr;
    int rcv_timeout_ = -1;         // the SO_RCVTIMEO last set on fd_ (seconds)
    bool rcv_timeout_ok_ = false;  // whether setting it worked (a socket)
};

}  // namespace pf::smtp
