// The listening endpoints of listen_socket.h.
#include "util/listen_socket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/core.h>

namespace pf::util {

namespace {

std::string errtext(std::string_view what, const std::string& where) {
    return fmt::format("{} {}: {}", what, where, std::strerror(errno));
}

bool fill_unix_addr(sockaddr_un& addr, const std::string& path) {
    addr = sockaddr_un{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) return false;
    std::memcpy(addr.sun_path, path.data(), path.size());
    return true;
}

std::expected<int, std::string> bind_unix(int type, const std::string& path, mode_t mode) {
    sockaddr_un addr;
    if (!fill_unix_addr(addr, path)) {
        errno = ENAMETOOLONG;
        return std::unexpected(errtext("bind", path));
    }
    int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return std::unexpected(errtext("socket", path));
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
        std::string e = errtext("remove", path);
        ::close(fd);
        return std::unexpected(e);
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
        std::string e = errtext("bind", path);
        ::close(fd);
        return std::unexpected(e);
    }
    if (::chmod(path.c_str(), mode) < 0) {
        std::string e = errtext("fchmod socket", path);
        ::close(fd);
        return std::unexpected(e);
    }
    return fd;
}

}  // namespace

std::expected<int, std::string> listen_unix_stream(const std::string& path, int backlog, mode_t mode) {
    auto fd = bind_unix(SOCK_STREAM, path, mode);
    if (!fd) return fd;
    if (::listen(*fd, backlog) < 0) {
        std::string e = errtext("listen", path);
        ::close(*fd);
        return std::unexpected(e);
    }
    return fd;
}

std::expected<int, std::string> listen_unix_dgram(const std::string& path, mode_t mode) {
    return bind_unix(SOCK_DGRAM, path, mode);
}

std::expected<int, std::string> listen_fifo(const std::string& path, mode_t mode) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) ::unlink(path.c_str());
    if (::mkfifo(path.c_str(), mode) < 0 && errno != EEXIST) return std::unexpected(errtext("create fifo", path));
    // Open for reading and writing: there is always a writer, so the fifo
    // never reads end-of-file when a client closes it.
    int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return std::unexpected(errtext("open", path));
    if (::fchmod(fd, mode) < 0) {
        std::string e = errtext("fchmod", path);
        ::close(fd);
        return std::unexpected(e);
    }
    return fd;
}

bool split_inet_endpoint(const std::string& endpoint, std::string& host, std::string& port) {
    if (!endpoint.empty() && endpoint.front() == '[') {
        auto close = endpoint.find(']');
        if (close == std::string::npos || close + 1 >= endpoint.size() || endpoint[close + 1] != ':') return false;
        host = endpoint.substr(1, close - 1);
        port = endpoint.substr(close + 2);
        return !port.empty();
    }
    auto colon = endpoint.rfind(':');
    if (colon == std::string::npos) {
        host.clear();
        port = endpoint;
    } else {
        host = endpoint.substr(0, colon);
        port = endpoint.substr(colon + 1);
    }
    if (host == "*") host.clear();
    return !port.empty();
}

std::expected<int, std::string> listen_inet(const std::string& host, const std::string& port, int backlog) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    hints.ai_family = host.empty() ? AF_INET6 : AF_UNSPEC;
    addrinfo* res = nullptr;
    std::string where = host.empty() ? fmt::format("*:{}", port) : fmt::format("{}:{}", host, port);
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0 && host.empty()) {
        hints.ai_family = AF_INET;
        rc = ::getaddrinfo(nullptr, port.c_str(), &hints, &res);
    }
    if (rc != 0 || res == nullptr) return std::unexpected(fmt::format("host/service {}: {}", where, ::gai_strerror(rc)));
    int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, res->ai_protocol);
    if (fd < 0) {
        std::string e = errtext("socket", where);
        ::freeaddrinfo(res);
        return std::unexpected(e);
    }
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (res->ai_family == AF_INET6 && host.empty()) {
        int off = 0;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    }
    if (::bind(fd, res->ai_addr, res->ai_addrlen) < 0 || ::listen(fd, backlog) < 0) {
        std::string e = errtext("bind", where);
        ::close(fd);
        ::freeaddrinfo(res);
        return std::unexpected(e);
    }
    ::freeaddrinfo(res);
    return fd;
}

}  // namespace pf::util
