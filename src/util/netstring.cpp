// Netstring reader and writer (netstring.h): the length digits, ':', the
// payload, ',' — each byte checked as it arrives.
//
// Trust: the input is hostile; lengths are bounded by the caller's limit
// and by overflow checks, and payload is appended only as it is read.
#include "util/netstring.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <memory>

namespace pf::util {

namespace {

constexpr std::size_t kReadChunk = 8192;

// Waits up to timeout seconds for events on fd: true when ready.
bool wait_fd(int fd, short events, int timeout) {
    if (timeout <= 0) return true;
    pollfd p{fd, events, 0};
    for (;;) {
        int rc = ::poll(&p, 1, timeout * 1000);
        if (rc < 0 && errno == EINTR) continue;
        return rc > 0;
    }
}

}  // namespace

std::string_view netstring_strerror(NetstringError error) {
    switch (error) {
    case NetstringError::eof: return "unexpected disconnect";
    case NetstringError::timeout: return "time limit exceeded";
    case NetstringError::format: return "input format error";
    case NetstringError::size: return "input exceeds size limit";
    }
    return "unknown netstring error";
}

NetstringReader::NetstringReader(Source source) : source_(std::move(source)) {}

NetstringReader::Source NetstringReader::fd_source(int fd, int timeout) {
    return [fd, timeout](char* buf, std::size_t size) -> std::expected<std::size_t, NetstringError> {
        if (!wait_fd(fd, POLLIN, timeout)) return std::unexpected(NetstringError::timeout);
        for (;;) {
            ssize_t n = ::read(fd, buf, size);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return std::unexpected(NetstringError::eof);
            return static_cast<std::size_t>(n);
        }
    };
}

NetstringReader::Source NetstringReader::string_source(std::string_view text, std::size_t chunk) {
    auto offset = std::make_shared<std::size_t>(0);
    std::string copy(text);
    return [copy = std::move(copy), offset, chunk](char* buf, std::size_t size)
               -> std::expected<std::size_t, NetstringError> {
        std::size_t left = copy.size() - *offset;
        std::size_t n = std::min(left, size);
        if (chunk > 0) n = std::min(n, chunk);
        copy.copy(buf, n, *offset);
        *offset += n;
        return n;
    };
}

std::expected<void, NetstringError> NetstringReader::fill() {
    if (pos_ < buf_.size()) return {};
    buf_.resize(kReadChunk);
    pos_ = 0;
    auto n = source_(buf_.data(), buf_.size());
    if (!n) {
        buf_.clear();
        return std::unexpected(n.error());
    }
    buf_.resize(*n);
    if (*n == 0) return std::unexpected(NetstringError::eof);
    return {};
}

std::expected<unsigned char, NetstringError> NetstringReader::next_byte() {
    if (auto f = fill(); !f) return std::unexpected(f.error());
    ++consumed_;
    return static_cast<unsigned char>(buf_[pos_++]);
}

std::expected<std::int64_t, NetstringError> NetstringReader::get_length() {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    std::int64_t len = 0;
    for (;;) {
        auto ch = next_byte();
        if (!ch) return std::unexpected(ch.error());
        if (*ch == ':') return len;
        if (*ch < '0' || *ch > '9') return std::unexpected(NetstringError::format);
        int digit = *ch - '0';
        if (len > kMax / 10 || len * 10 > kMax - digit) return std::unexpected(NetstringError::size);
        len = len * 10 + digit;
    }
}

std::expected<void, NetstringError> NetstringReader::get_data(std::string& out, std::int64_t len) {
    auto want = static_cast<std::uint64_t>(len < 0 ? 0 : len);
    while (want > 0) {
        if (auto f = fill(); !f) return std::unexpected(f.error());
        std::size_t n = std::min<std::uint64_t>(want, buf_.size() - pos_);
        out.append(buf_, pos_, n);
        pos_ += n;
        consumed_ += n;
        want -= n;
    }
    auto ch = next_byte();
    if (!ch) return std::unexpected(ch.error());
    if (*ch != ',') return std::unexpected(NetstringError::format);
    return {};
}

std::expected<void, NetstringError> NetstringReader::get(std::string& out, std::int64_t limit) {
    auto len = get_length();
    if (!len) return std::unexpected(len.error());
    if (limit > 0 && *len > limit) return std::unexpected(NetstringError::size);
    out.clear();
    return get_data(out, *len);
}

std::expected<bool, NetstringError> NetstringReader::take_terminator() {
    if (auto f = fill(); !f) return std::unexpected(f.error());
    if (buf_[pos_] != ',') return false;
    ++pos_;
    ++consumed_;
    return true;
}

void netstring_append(std::string& out, std::string_view data) {
    out += std::to_string(data.size());
    out += ':';
    out += data;
    out += ',';
}

std::string netstring_encode(std::string_view data) {
    std::string out;
    netstring_append(out, data);
    return out;
}

std::expected<void, NetstringError> netstring_write(int fd, std::string_view data, int timeout) {
    while (!data.empty()) {
        if (!wait_fd(fd, POLLOUT, timeout)) return std::unexpected(NetstringError::timeout);
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::unexpected(NetstringError::eof);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

}  // namespace pf::util
