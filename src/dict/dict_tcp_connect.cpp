// Connections of the network table clients; see dict_tcp_connect.h.
#include "dict/dict_tcp_connect.h"

#include "util/msg.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace pf::dict {
namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

bool valid_address(std::string_view host) {
    std::string h(host);
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

// Host names as the reference accepts them: labels of letters, digits,
// '-' and '_' (not starting or ending with '-'), at most 63 bytes each and
// 255 in all, not all numeric; 8-bit bytes are allowed as UTF-8 labels.
bool valid_hostname(std::string_view host) {
    if (host.empty() || host.size() > 255) return false;
    size_t label = 0;
    bool non_numeric = false;
    char prev = '.';
    for (char c : host) {
        unsigned char u = static_cast<unsigned char>(c);
        if (c == '.') {
            if (label == 0 || prev == '-') return false;
            label = 0;
        } else if (std::isalnum(u) || c == '_' || c == '-' || u >= 0x80) {
            if (c == '-' && label == 0) return false;
            if (++label > 63) return false;
            if (!std::isdigit(u)) non_numeric = true;
        } else {
            return false;
        }
        prev = c;
    }
    if (label == 0 || prev == '-') return false;
    return non_numeric;
}

// host_port() of the reference with a default host and no default port.
const char* split_host_port(std::string_view addr, std::string& host, std::string& port) {
    bool default_host = false;
    if (!addr.empty() && addr.front() == '[') {
        std::string_view rest = addr.substr(1);
        bool ipv6 = rest.size() >= 5 && strncasecmp(rest.data(), "IPv6:", 5) == 0;
        if (ipv6) rest.remove_prefix(5);
        auto close = rest.find(']');
        if (close == std::string_view::npos) return "missing \"]\"";
        host = std::string(rest.substr(0, close));
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return "garbage after \"]\"";
            rest.remove_prefix(1);
        }
        unsigned char buf[sizeof(struct in6_addr)];
        if (ipv6 && inet_pton(AF_INET6, host.c_str(), buf) != 1) return "malformed IPv6 address";
        if (rest.empty()) return "missing service information";
        port = std::string(rest);
    } else {
        auto colon = addr.rfind(':');
        if (colon != std::string_view::npos) {
            host = std::string(addr.substr(0, colon));
            if (host.empty()) {
                host = "localhost";
                default_host = true;
            }
            port = std::string(addr.substr(colon + 1));
            if (port.empty()) return "missing service information";
        } else {
            host = "localhost";
            default_host = true;
            if (addr.empty()) return "missing service information";
            port = std::string(addr);
        }
    }
    if (!default_host && !valid_hostname(host) && !valid_address(host))
        return "valid hostname or network address required";
    if (std::isdigit(static_cast<unsigned char>(port.front())) && !all_digits(port))
        return "garbage after numerical service";
    return nullptr;
}

// Waits for fd to become ready for events; false on timeout (errno
// ETIMEDOUT) or poll failure.
bool wait_ready(int fd, short events, int timeout) {
    if (timeout <= 0) return true;
    struct pollfd p {};
    p.fd = fd;
    p.events = events;
    for (;;) {
        int n = ::poll(&p, 1, timeout * 1000);
        if (n > 0) return true;
        if (n == 0) {
            errno = ETIMEDOUT;
            return false;
        }
        if (errno != EINTR) return false;
    }
}

// A non-blocking connect bounded by timeout; the socket stays non-blocking
// (all I/O goes through poll). Returns 0, or -1 with errno set.
int timed_connect(int fd, const struct sockaddr* sa, socklen_t len, int timeout) {
    if (::connect(fd, sa, len) == 0) return 0;
    if (errno != EINPROGRESS) return -1;
    if (!wait_ready(fd, POLLOUT, timeout)) return -1;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) return -1;
    if (soerr != 0) {
        errno = soerr;
        return -1;
    }
    errno = EINPROGRESS;  // what the reference's errno still says
    return 0;
}

}  // namespace

int tcp_connect(std::string_view addr, int timeout, int& err) {
    std::string host, port;
    if (const char* problem = split_host_port(addr, host, port)) util::msg_fatal("{}: {}", addr, problem);
    struct addrinfo hints {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = valid_address(host) ? AI_NUMERICHOST : 0;
    struct addrinfo* res0 = nullptr;
    int aierr = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res0);
    if (aierr != 0) {
        util::msg_warn("host or service {} not found: {}", addr, gai_strerror(aierr));
        err = EADDRNOTAVAIL;
        return -1;
    }
    int fd = -1;
    for (struct addrinfo* res = res0; res; res = res->ai_next) {
        fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, res->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (timed_connect(fd, res->ai_addr, res->ai_addrlen, timeout) == 0) {
            err = errno;
            break;
        }
        err = errno;
        ::close(fd);
        fd = -1;
    }
    ::freeaddrinfo(res0);
    return fd;
}

int unix_socket_connect(std::string_view path, int timeout, int& err) {
    struct sockaddr_un sun {};
    sun.sun_family = AF_UNIX;
    if (path.size() >= sizeof(sun.sun_path)) {
        err = ENAMETOOLONG;
        return -1;
    }
    std::memcpy(sun.sun_path, path.data(), path.size());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        err = errno;
        return -1;
    }
    if (::connect(fd, reinterpret_cast<struct sockaddr*>(&sun), sizeof(sun)) == 0) return fd;  // err: unchanged
    if (errno == EINPROGRESS || errno == EAGAIN) {
        if (wait_ready(fd, POLLOUT, timeout)) {
            err = EINPROGRESS;
            return fd;
        }
    }
    err = errno;
    ::close(fd);
    return -1;
}

TableStream& TableStream::operator=(TableStream&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = o.fd_;
        timeout_ = o.timeout_;
        buf_ = std::move(o.buf_);
        pos_ = o.pos_;
        o.fd_ = -1;
        o.pos_ = 0;
        o.buf_.clear();
    }
    return *this;
}

void TableStream::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
    pos_ = 0;
}

TableStream::Status TableStream::write_all(std::string_view data, int& err) {
    while (!data.empty()) {
        if (!wait_ready(fd_, POLLOUT, timeout_)) {
            err = errno;
            return err == ETIMEDOUT ? Status::timeout : Status::error;
        }
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            err = errno;
            return Status::eof;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::ok;
}

TableStream::Status TableStream::fill(int& err) {
    char chunk[4096];
    for (;;) {
        if (!wait_ready(fd_, POLLIN, timeout_)) {
            err = errno;
            return err == ETIMEDOUT ? Status::timeout : Status::error;
        }
        ssize_t n = ::read(fd_, chunk, sizeof(chunk));
        if (n > 0) {
            buf_.erase(0, pos_);
            pos_ = 0;
            buf_.append(chunk, static_cast<size_t>(n));
            return Status::ok;
        }
        if (n == 0) return Status::eof;
        if (errno == EINTR || errno == EAGAIN) continue;
        err = errno;
        return Status::eof;
    }
}

TableStream::Status TableStream::get(char& c, int& err) {
    if (pos_ >= buf_.size()) {
        Status s = fill(err);
        if (s != Status::ok) return s;
    }
    c = buf_[pos_++];
    return Status::ok;
}

TableStream::Status TableStream::read_exact(size_t n, std::string& out, int& err) {
    while (buf_.size() - pos_ < n) {
        size_t have = buf_.size() - pos_;
        out.append(buf_, pos_, have);
        n -= have;
        buf_.clear();
        pos_ = 0;
        Status s = fill(err);
        if (s != Status::ok) return s;
    }
    out.append(buf_, pos_, n);
    pos_ += n;
    return Status::ok;
}

}  // namespace pf::dict
