// Client connections to our daemons' sockets (service_client.h): UNIX
// stream sockets under queue_directory/{private,public}, and wakeup
// triggers to stream sockets or FIFOs. Errors come back as the errno text
// the reference prints after "connect to <path>: ".
//
// Trust: the paths are built from configuration; the peer's replies are
// decoded by attr.h, which checks them.
#include "ipc/service_client.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fmt/core.h>
#include <string>

namespace pf::ipc {

ServiceConnection& ServiceConnection::operator=(ServiceConnection&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        buffer_ = std::move(other.buffer_);
        other.fd_ = -1;
    }
    return *this;
}

ServiceConnection::~ServiceConnection() {
    if (fd_ >= 0) ::close(fd_);
}

std::expected<void, AttrError> ServiceConnection::send(const AttrList& attrs, int timeout) {
    if (fd_ < 0) return std::unexpected(AttrError::io);
    return send_attrs(fd_, attrs, timeout);
}

std::expected<AttrList, AttrError> ServiceConnection::receive(int timeout) {
    if (fd_ < 0) return std::unexpected(AttrError::io);
    return receive_attrs(fd_, buffer_, timeout);
}

namespace {

std::string service_path(const std::string& queue_directory, std::string_view class_dir, std::string_view service) {
    std::string path = queue_directory;
    if (!path.empty() && path.back() != '/') path += '/';
    path += class_dir;
    path += '/';
    path += service;
    return path;
}

// Waits for a non-blocking connect to finish; 0 or an errno value.
int finish_connect(int fd, int timeout) {
    pollfd p{fd, POLLOUT, 0};
    int n;
    do {
        n = ::poll(&p, 1, timeout > 0 ? timeout * 1000 : -1);
    } while (n < 0 && errno == EINTR);
    if (n == 0) return ETIMEDOUT;
    if (n < 0) return errno;
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

// connect_unix, the socket left non-blocking.
std::expected<ServiceConnection, std::string> connect_unix_nonblocking(const std::string& path, int timeout,
                                                                       bool wait_for_room) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) return std::unexpected(std::string(std::strerror(ENAMETOOLONG)));
    std::memcpy(addr.sun_path, path.data(), path.size());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return std::unexpected(std::string(std::strerror(errno)));
    ServiceConnection conn(fd);
    // A full listen backlog makes a non-blocking UNIX connect fail with
    // EAGAIN at once; try again in short steps until the timeout.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout > 0 ? timeout : 3600);
    for (;;) {
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) break;
        int err = errno;
        if (err == EINTR) continue;
        if (err == EINPROGRESS) {
            err = finish_connect(fd, timeout);
            if (err == 0) break;
        }
        if (err == EAGAIN && wait_for_room && std::chrono::steady_clock::now() < deadline) {
            ::poll(nullptr, 0, 10);
            continue;
        }
        return std::unexpected(std::string(std::strerror(err == EAGAIN ? ETIMEDOUT : err)));
    }
    return conn;
}

}  // namespace

std::expected<ServiceConnection, std::string> connect_unix(const std::string& path, int timeout, bool wait_for_room) {
    auto conn = connect_unix_nonblocking(path, timeout, wait_for_room);
    if (!conn) return conn;
    // Blocking from here on: attr.h does its own timeouts with poll. (A
    // fresh socket has no other status flag that F_SETFL could clear.)
    ::fcntl(conn->fd(), F_SETFL, 0);
    return conn;
}

std::expected<ServiceConnection, std::string> connect_service(const std::string& queue_directory,
                                                              std::string_view class_dir,
                                                              std::string_view service, int timeout) {
    return connect_unix(service_path(queue_directory, class_dir, service), timeout);
}

std::expected<AttrList, std::string> request_reply(const std::string& queue_directory, std::string_view class_dir,
                                                   std::string_view service, const AttrList& request, int timeout) {
    auto conn = connect_service(queue_directory, class_dir, service, timeout);
    if (!conn) return std::unexpected(conn.error());
    if (auto sent = conn->send(request, timeout); !sent)
        return std::unexpected(fmt::format("send to {}: {}", service, attr_error_text(sent.error())));
    auto reply = conn->receive(timeout);
    if (!reply) return std::unexpected(fmt::format("receive from {}: {}", service, attr_error_text(reply.error())));
    return std::move(*reply);
}

std::expected<void, std::string> send_trigger(const std::string& queue_directory, std::string_view class_dir,
                                              std::string_view service, std::string_view bytes, int timeout,
                                              bool wait_for_room) {
    std::string path = service_path(queue_directory, class_dir, service);
    // A UNIX socket first (the usual case, no stat(2) before it): a FIFO
    // refuses the connect, and is then written to instead.
    auto conn = connect_unix_nonblocking(path, timeout, wait_for_room);
    if (!conn) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 || !S_ISFIFO(st.st_mode)) return std::unexpected(conn.error());
        // A FIFO: nobody reading means the service is not running.
        int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) return std::unexpected(std::string(std::strerror(errno)));
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        int err = errno;
        ::close(fd);
        if (n < 0) return std::unexpected(std::string(std::strerror(err)));
        return {};
    }
    // Written at once; poll(2) only while the socket buffer is full.
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::send(conn->fd(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return std::unexpected(std::string(std::strerror(errno)));
            pollfd p{conn->fd(), POLLOUT, 0};
            int r = ::poll(&p, 1, timeout > 0 ? timeout * 1000 : -1);
            if (r == 0) return std::unexpected(std::string(std::strerror(ETIMEDOUT)));
            if (r < 0 && errno != EINTR) return std::unexpected(std::string(std::strerror(errno)));
            continue;
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

}  // namespace pf::ipc
