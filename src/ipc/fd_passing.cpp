// Descriptor passing over UNIX-domain sockets: see fd_passing.h.
#include "ipc/fd_passing.h"

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace pf::ipc {

namespace {

// Waits for events on fd; false with errno set (ETIMEDOUT on timeout).
bool wait_for(int fd, short events, int timeout) {
    pollfd p{fd, events, 0};
    for (;;) {
        int n = ::poll(&p, 1, timeout > 0 ? timeout * 1000 : -1);
        if (n > 0) return true;
        if (n == 0) {
            errno = ETIMEDOUT;
            return false;
        }
        if (errno != EINTR) return false;
    }
}

}  // namespace

std::expected<void, std::string> send_fd(int socket_fd, int fd, int timeout) {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    std::memset(control, 0, sizeof control);
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    for (;;) {
        if (!wait_for(socket_fd, POLLOUT, timeout)) return std::unexpected(std::string(std::strerror(errno)));
        ssize_t n = ::sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
        if (n == 1) return {};
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        return std::unexpected(std::string(n < 0 ? std::strerror(errno) : "short write"));
    }
}

std::expected<UniqueFd, std::string> receive_fd(int socket_fd, int timeout) {
    char byte = 0;
    iovec iov{&byte, 1};
    // Room for a few descriptors: a peer that sends more gets them closed.
    alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    for (;;) {
        if (!wait_for(socket_fd, POLLIN, timeout)) return std::unexpected(std::string(std::strerror(errno)));
        n = ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        break;
    }
    if (n < 0) return std::unexpected(std::string(std::strerror(errno)));
    // Every descriptor that arrived is owned here from now on.
    UniqueFd got;
    int count = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        std::size_t fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t k = 0; k < fds; ++k) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
            if (count++ == 0) got.reset(fd);
            else ::close(fd);
        }
    }
    if (n == 0 && count == 0) return std::unexpected(std::string("end of file"));
    if (msg.msg_flags & MSG_CTRUNC) return std::unexpected(std::string("control data truncated"));
    if (count != 1) return std::unexpected(std::string(count == 0 ? "no file descriptor received"
                                                                  : "more than one file descriptor received"));
    return got;
}

}  // namespace pf::ipc
