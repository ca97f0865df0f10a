// The stand-alone smtpd's stdin/stdout connection: see smtpd_stdio.h.
#include "daemon/smtpd/smtpd_stdio.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace pf::smtpd {

namespace {

// The reference's stream buffer size: a full buffer is written out.
constexpr std::size_t kBufferSize = 4096;
// Replies older than this go out with the next one.
constexpr std::time_t kMaxHold = 10;

// Waits until fd is ready for events, at most seconds; false on timeout.
bool wait_ready(int fd, short events, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) return true;  // the read or write reports it
    }
}

}  // namespace

std::expected<void, smtp::StreamError> StdioTransport::flush(int timeout) {
    std::size_t done = 0;
    while (done < out_.size()) {
        if (!wait_ready(out_fd_, POLLOUT, timeout)) {
            out_.clear();
            return std::unexpected(smtp::StreamError::kTimeout);
        }
        ssize_t n = ::write(out_fd_, out_.data() + done, out_.size() - done);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            out_.clear();
            return std::unexpected(smtp::StreamError::kBroken);
        }
        done += static_cast<std::size_t>(n);
    }
    out_.clear();
    last_io_ = std::time(nullptr);
    return {};
}

std::expected<std::size_t, smtp::StreamError> StdioTransport::read(char* buf, std::size_t len, int timeout) {
    // The client waits for our replies before it sends more.
    if (!out_.empty()) {
        if (auto r = flush(timeout); !r) return std::unexpected(r.error());
    }
    if (!wait_ready(in_fd_, POLLIN, timeout)) return std::unexpected(smtp::StreamError::kTimeout);
    for (;;) {
        ssize_t n = ::read(in_fd_, buf, len);
        if (n > 0) {
            last_io_ = std::time(nullptr);
            return static_cast<std::size_t>(n);
        }
        if (n < 0 && errno == EINTR) continue;
        return std::unexpected(smtp::StreamError::kEof);
    }
}

std::expected<void, smtp::StreamError> StdioTransport::write(const char* buf, std::size_t len, int timeout) {
    out_.append(buf, len);
    if (out_.size() >= kBufferSize || std::time(nullptr) - last_io_ > kMaxHold) return flush(timeout);
    return {};
}

}  // namespace pf::smtpd
