// SmtpStream: bounded line reads and buffered writes with a per-call time
// limit (see smtp_stream.h). poll(2) gives the time limit; a signal
// interrupting a call retries it within the same limit.
//
// Trust: peer bytes are hostile; buffers never grow past one read beyond
// the caller's line limit.
#include "smtp/smtp_stream.h"

#include <cerrno>
#include <chrono>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pf::smtp {

namespace {

// Waits for fd to become ready for events within seconds; false on timeout.
bool wait_ready(int fd, short events, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
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
    if (!wait_ready(fd_, POLLIN, timeout_)) return std::unexpected(StreamError::kTimeout);
    char chunk[8192];
    for (;;) {
        ssize_t n = ::read(fd_, chunk, sizeof chunk);
        if (n > 0) {
            buf_.append(chunk, static_cast<std::size_t>(n));
            return {};
        }
        if (n < 0 && errno == EINTR) continue;
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
    for (;;) {
        while (pos_ < buf_.size()) {
            char c = buf_[pos_];
            if (c == '\n') {
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
                for (char ch : line.text)
                    if (ch == '\r') line.bare_cr = true;
                compact();
                return line;
            }
            got_any = true;
            ++pos_;
            if (cut) continue;
            line.text.push_back(c);
            if (limit != 0 && line.text.size() >= limit) {
                if (!skip_rest) {
                    line.end = LineEnd::kNone;
                    for (char ch : line.text)
                        if (ch == '\r') line.bare_cr = true;
                    compact();
                    return line;
                }
                cut = true;
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
    std::size_t done = 0;
    while (done < out_.size()) {
        if (!wait_ready(fd_, POLLOUT, timeout_)) {
            out_.clear();
            return std::unexpected(StreamError::kTimeout);
        }
        ssize_t n = ::send(fd_, out_.data() + done, out_.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            out_.clear();
            return std::unexpected(StreamError::kBroken);
        }
        done += static_cast<std::size_t>(n);
    }
    out_.clear();
    return {};
}

}  // namespace pf::smtp
