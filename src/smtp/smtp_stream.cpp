// SmtpStream: bounded line reads and buffered writes with a per-call time
// limit (see smtp_stream.h). A signal interrupting a call retries it within
// the same limit.
//
// System calls per read or write (they dominate an SMTP session's cost):
// a write is tried at once without blocking and poll(2) waits only when
// the socket buffer is full; a read blocks in read(2) itself with the time
// limit set on the socket (SO_RCVTIMEO, set again only when the limit
// changes), so a reply or command costs one call, not poll + read. When
// the descriptor is not a socket, or is non-blocking, or a signal cut the
// wait short, poll(2) waits for the rest of the limit.
//
// Trust: peer bytes are hostile; buffers never grow past one read beyond
// the caller's line limit.
#include "smtp/smtp_stream.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace pf::smtp {

namespace {

using Clock = std::chrono::steady_clock;

// Waits for fd to become ready for events until deadline; false on timeout.
bool wait_until(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() < 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) return true;  // let the read/write report the error
    }
}

}  // namespace

std::expected<void, StreamError> SmtpStream::fill() {
    compact();
    if (transport_) {
        char chunk[8192];
        auto n = transport_->read(chunk, sizeof chunk, timeout_);
        if (!n) return std::unexpected(n.error());
        buf_.append(chunk, *n);
        return {};
    }
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_);
    // First the read itself, blocking within the socket's time limit.
    if (timeout_ > 0 && rcv_timeout_ != timeout_) {
        timeval tv{timeout_, 0};
        rcv_timeout_ok_ = ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
        rcv_timeout_ = timeout_;
    }
    bool poll_first = !(timeout_ > 0 && rcv_timeout_ok_);
    if (poll_first && !wait_until(fd_, POLLIN, deadline)) return std::unexpected(StreamError::kTimeout);
    constexpr std::size_t kChunk = 8192;
    for (;;) {
        // Straight into the buffer's tail (no copy through the stack).
        ssize_t n = -1;
        const std::size_t had = buf_.size();
        buf_.resize_and_overwrite(had + kChunk, [&](char* p, std::size_t) {
            n = ::read(fd_, p + had, kChunk);
            return had + (n > 0 ? static_cast<std::size_t>(n) : 0);
        });
        if (n > 0) return {};
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            // Interrupted, timed out in the kernel, or a non-blocking
            // descriptor: poll for what is left of the limit.
            if (!wait_until(fd_, POLLIN, deadline)) return std::unexpected(StreamError::kTimeout);
            continue;
        }
        return std::unexpected(StreamError::kEof);
    }
}

void SmtpStream::compact() {
    if (pos_ > 0 && (pos_ == buf_.size() || pos_ > 65536)) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
}

std::expected<Line, StreamError> SmtpStream::read_line(std::size_t limit, bool skip_rest) {
    Line line;
    bool got_any = false;
    bool cut = false;
    // Whether text holds a CR (a bare one once the line's trailing CRs go).
    auto note_bare_cr = [&line] {
        line.bare_cr = line.text.find('\r') != std::string::npos;
    };
    for (;;) {
        // What is buffered up to the next newline is taken in one piece.
        if (pos_ < buf_.size()) {
            const char* base = buf_.data() + pos_;
            const std::size_t avail = buf_.size() - pos_;
            const char* nl = static_cast<const char*>(std::memchr(base, '\n', avail));
            const std::size_t span = nl != nullptr ? static_cast<std::size_t>(nl - base) : avail;
            if (span > 0) got_any = true;
            if (cut) {
                pos_ += span;
            } else if (limit != 0 && span >= limit - line.text.size()) {
                // The limit is reached inside this piece.
                const std::size_t room = limit - line.text.size();
                line.text.append(base, room);
                pos_ += room;
                if (!skip_rest) {
                    line.end = LineEnd::kNone;
                    note_bare_cr();
                    compact();
                    return line;
                }
                cut = true;
                pos_ += span - room;
            } else {
                line.text.append(base, span);
                pos_ += span;
            }
            if (nl != nullptr) {
                ++pos_;
                if (cut) {
                    // The skipped remainder ended: report as the line ended,
                    // judging the ending from the last bytes kept or skipped.
                    line.end = LineEnd::kCrLf;
                } else {
                    line.end = LineEnd::kBareLf;
                    if (!line.text.empty() && line.text.back() == '\r') line.end = LineEnd::kCrLf;
                    while (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
                }
                note_bare_cr();
                compact();
                return line;
            }
        }
        if (auto r = fill(); !r) {
            if (r.error() == StreamError::kEof && got_any && !cut) {
                line.end = LineEnd::kNone;
                return line;
            }
            return std::unexpected(r.error());
        }
    }
}

bool SmtpStream::input_pending() {
    if (pos_ < buf_.size()) return true;
    if (transport_) {
        // Decoded records waiting, or ciphertext on the socket (which may
        // turn out to be no plaintext at all: reading now would block, so
        // the socket's readiness is the answer, as for the reference).
        if (transport_->pending()) return true;
        pollfd tp{fd_, POLLIN, 0};
        return ::poll(&tp, 1, 0) > 0 && (tp.revents & POLLIN);
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) return false;
    compact();
    char chunk[8192];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
}

std::expected<void, StreamError> SmtpStream::flush() {
    if (transport_) {
        if (out_.empty()) return {};
        auto r = transport_->write(out_.data(), out_.size(), timeout_);
        out_.clear();
        return r;
    }
    // Written at once while the socket buffer has room; poll(2) only when
    // it is full (or for a descriptor that is not a socket).
    auto deadline = Clock::now() + std::chrono::seconds(timeout_);
    std::size_t done = 0;
    bool socket = true;
    while (done < out_.size()) {
        ssize_t n = socket ? ::send(fd_, out_.data() + done, out_.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT)
                           : ::write(fd_, out_.data() + done, out_.size() - done);
        if (n < 0 && errno == ENOTSOCK && socket) {
            socket = false;
            n = -1;
            errno = EAGAIN;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!wait_until(fd_, POLLOUT, deadline)) {
                    out_.clear();
                    return std::unexpected(StreamError::kTimeout);
                }
                continue;
            }
            out_.clear();
            return std::unexpected(StreamError::kBroken);
        }
        done += static_cast<std::size_t>(n);
    }
    out_.clear();
    return {};
}

}  // namespace pf::smtp
