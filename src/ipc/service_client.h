// Client side of our daemons' sockets: connecting to
// <queue_directory>/{private,public}/<service> (a UNIX stream socket, or a
// FIFO for fifo services), sending one request and reading its reply, and
// sending wakeup triggers.
#pragma once

#include "ipc/attr.h"

#include <expected>
#include <string>
#include <string_view>

namespace pf::ipc {

// An open connection; closes on destruction.
class ServiceConnection {
public:
    ServiceConnection() = default;
    explicit ServiceConnection(int fd) : fd_(fd) {}
    ServiceConnection(ServiceConnection&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) { other.fd_ = -1; }
    ServiceConnection& operator=(ServiceConnection&& other) noexcept;
    ~ServiceConnection();

    int fd() const { return fd_; }
    bool is_open() const { return fd_ >= 0; }
    std::expected<void, AttrError> send(const AttrList& attrs, int timeout);
    std::expected<AttrList, AttrError> receive(int timeout);
    // Bytes already read past the last attribute message (record streams).
    std::string& buffer() { return buffer_; }

private:
    int fd_ = -1;
    std::string buffer_;
};

// Connects to "private/<service>" or "public/<service>" (class_dir) under
// queue_directory; errno-style text on failure.
std::expected<ServiceConnection, std::string> connect_service(const std::string& queue_directory,
                                                              std::string_view class_dir,
                                                              std::string_view service, int timeout);
// Connects to an absolute or relative socket path. A full listen backlog
// is waited out (in short steps, up to timeout) unless wait_for_room is
// false: then it fails at once.
std::expected<ServiceConnection, std::string> connect_unix(const std::string& path, int timeout,
                                                           bool wait_for_room = true);

// One request and its reply on a fresh connection to <class_dir>/<service>:
// the error text says which step failed ("send to bounce: ...").
std::expected<AttrList, std::string> request_reply(const std::string& queue_directory, std::string_view class_dir,
                                                   std::string_view service, const AttrList& request, int timeout);

// Writes trigger bytes to a service (UNIX socket or FIFO); does not wait
// for an answer. errno-style text on failure. wait_for_room: as for
// connect_unix; false suits a wakeup that a full backlog of other wakeups
// makes redundant (the reference's triggers never wait for room).
std::expected<void, std::string> send_trigger(const std::string& queue_directory, std::string_view class_dir,
                                              std::string_view service, std::string_view bytes, int timeout,
                                              bool wait_for_room = true);

}  // namespace pf::ipc
