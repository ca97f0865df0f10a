// Time-limited connect for the SMTP/LMTP client: see smtp_client_connect.h.
#include "smtp/smtp_client_connect.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pf::smtp {

std::expected<int, std::string> connect_server(const ServerAddress& address, int timeout_seconds) {
    int fd = ::socket(address.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::unexpected(std::string(std::strerror(errno)));
    auto fail = [fd](int err) {
        ::close(fd);
        return std::unexpected(std::string(std::strerror(err)));
    };
    int flags = ::fcntl(fd, F_GETFL);
    if (timeout_seconds > 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address.sa), address.sa_len);
    } while (rc < 0 && errno == EINTR && timeout_seconds == 0);
    if (rc < 0) {
        if (timeout_seconds == 0 || (errno != EINPROGRESS && errno != EINTR)) return fail(errno);
        pollfd p{fd, POLLOUT, 0};
        int n;
        do {
            n = ::poll(&p, 1, timeout_seconds * 1000);
        } while (n < 0 && errno == EINTR);
        if (n == 0) return fail(ETIMEDOUT);
        if (n < 0) return fail(errno);
        int err = 0;
        socklen_t len = sizeof(err);
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return fail(errno);
        if (err != 0) return fail(err);
    }
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

}  // namespace pf::smtp
