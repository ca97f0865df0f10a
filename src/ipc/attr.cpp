// The attribute-list codec: see attr.h.
#include "ipc/attr.h"

#include <cerrno>
#include <charconv>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pf::ipc {
namespace {

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

// Waits until fd is ready; false on timeout.
// A negative timeout waits without a limit; 0 does not wait.
bool wait_ready(int fd, short events, int timeout) {
    if (timeout == 0) return true;
    pollfd p{fd, events, 0};
    for (;;) {
        int n = ::poll(&p, 1, timeout < 0 ? -1 : timeout * 1000);
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) return true;  // let the read/write report it
    }
}

}  // namespace

AttrList& AttrList::add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
    return *this;
}

AttrList& AttrList::add(std::string name, long long value) {
    return add(std::move(name), std::to_string(value));
}

std::optional<std::string_view> AttrList::get(std::string_view name) const {
    for (const auto& [n, v] : items_)
        if (n == name) return std::string_view(v);
    return std::nullopt;
}

std::string AttrList::get_or(std::string_view name, std::string_view fallback) const {
    auto v = get(name);
    return std::string(v ? *v : fallback);
}

std::optional<long long> AttrList::get_number(std::string_view name) const {
    auto v = get(name);
    if (!v || v->empty()) return std::nullopt;
    long long out = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || end != v->data() + v->size()) return std::nullopt;
    return out;
}

std::vector<std::string_view> AttrList::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [n, v] : items_)
        if (n == name) out.emplace_back(v);
    return out;
}

std::string_view attr_error_text(AttrError error) {
    switch (error) {
        case AttrError::eof: return "unexpected end of input";
        case AttrError::truncated: return "truncated message";
        case AttrError::malformed: return "malformed attribute";
        case AttrError::too_large: return "message too large";
        case AttrError::io: return "I/O error";
        case AttrError::timeout: return "timeout";
    }
    return "error";
}

std::string encode_attrs(const AttrList& attrs) {
    std::string out;
    for (const auto& [name, value] : attrs.items()) {
        out += name;
        out += '=';
        for (char c : value) {
            switch (c) {
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\0': out += "\\0"; break;
                default: out += c;
            }
        }
        out += '\n';
    }
    out += '\n';
    return out;
}

std::expected<AttrList, AttrError> decode_attrs(std::string_view buf, std::size_t& consumed) {
    AttrList attrs;
    std::size_t pos = 0;
    std::size_t count = 0;
    for (;;) {
        std::size_t eol = buf.find('\n', pos);
        if (eol == std::string_view::npos) {
            if (buf.size() - pos > kMaxAttrValue + 80) return std::unexpected(AttrError::too_large);
            return std::unexpected(buf.empty() ? AttrError::eof : AttrError::truncated);
        }
        std::string_view line = buf.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.empty()) break;
        if (++count > kMaxAttrCount) return std::unexpected(AttrError::too_large);
        std::size_t eq = line.find('=');
        if (eq == std::string_view::npos || !valid_name(line.substr(0, eq)))
            return std::unexpected(AttrError::malformed);
        std::string value;
        std::string_view raw = line.substr(eq + 1);
        if (raw.size() > 2 * kMaxAttrValue) return std::unexpected(AttrError::too_large);
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] != '\\') {
                value += raw[i];
                continue;
            }
            if (++i == raw.size()) return std::unexpected(AttrError::malformed);
            switch (raw[i]) {
                case '\\': value += '\\'; break;
                case 'n': value += '\n'; break;
                case '0': value += '\0'; break;
                default: return std::unexpected(AttrError::malformed);
            }
        }
        if (value.size() > kMaxAttrValue) return std::unexpected(AttrError::too_large);
        attrs.add(std::string(line.substr(0, eq)), std::move(value));
    }
    consumed = pos;
    return attrs;
}

std::expected<void, AttrError> send_attrs(int fd, const AttrList& attrs, int timeout) {
    std::string data = encode_attrs(attrs);
    std::size_t off = 0;
    // A socket is written at once (one system call while its buffer has
    // room) and polled only when full; anything else (a pipe) polled first.
    bool socket = true;
    while (off < data.size()) {
        ssize_t n = -1;
        if (socket) {
            n = ::send(fd, data.data() + off, data.size() - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == ENOTSOCK) {
                    socket = false;
                } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    // Full: wait for room (without a limit: as long as it takes).
                    if (!wait_ready(fd, POLLOUT, timeout > 0 ? timeout : -1)) return std::unexpected(AttrError::timeout);
                } else if (errno != EINTR) {
                    return std::unexpected(AttrError::io);
                }
                continue;
            }
        } else {
            if (!wait_ready(fd, POLLOUT, timeout)) return std::unexpected(AttrError::timeout);
            n = ::write(fd, data.data() + off, data.size() - off);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                return std::unexpected(AttrError::io);
            }
        }
        off += static_cast<std::size_t>(n);
    }
    return {};
}

std::expected<AttrList, AttrError> receive_attrs(int fd, std::string& buffer, int timeout) {
    for (;;) {
        std::size_t consumed = 0;
        auto got = decode_attrs(buffer, consumed);
        if (got) {
            buffer.erase(0, consumed);
            return got;
        }
        if (got.error() != AttrError::truncated && got.error() != AttrError::eof) return got;
        if (!wait_ready(fd, POLLIN, timeout)) return std::unexpected(AttrError::timeout);
        char chunk[8192];
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return std::unexpected(AttrError::io);
        }
        if (n == 0) return std::unexpected(buffer.empty() ? AttrError::eof : AttrError::truncated);
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

}  // namespace pf::ipc
