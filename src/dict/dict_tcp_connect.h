// Client connections of the network table types (tcp:, socketmap:,
// memcache:): connecting to "host:port" or a UNIX-domain socket path with a
// time limit, and a small buffered stream with a per-operation time limit.
//
// Reproduces how the reference's clients connect and what they say:
//  - "host:port", ":port" or "port" (no host: localhost); a malformed
//    address is fatal ("<addr>: garbage after numerical service",
//    "<addr>: valid hostname or network address required", "missing host
//    information", ...); a name that does not resolve warns "host or
//    service <addr> not found: <resolver text>" and fails with
//    EADDRNOTAVAIL; every address of the name is tried in turn;
//  - the errno a later diagnostic shows: the reference prints a stale errno
//    in some messages (a successful non-blocking connect leaves
//    EINPROGRESS), so each step records the errno the reference would have
//    left (last_errno()).
//
// Trust: addresses come from main.cf or the command line; bytes from the
// server are arbitrary and bounded by the caller's limits.
#pragma once

#include <string>
#include <string_view>

namespace pf::dict {

// Connects to "host:port" (see above); returns an fd, or -1 with err set.
// Fatal (msg_fatal) on a malformed address, as the reference.
int tcp_connect(std::string_view addr, int timeout, int& err);
// Connects to a UNIX-domain stream socket; returns an fd, or -1 with err set.
int unix_socket_connect(std::string_view path, int timeout, int& err);

// A connected stream: buffered reads, whole writes, each bounded by the
// timeout (seconds). Closes its fd on destruction.
class TableStream {
public:
    TableStream() = default;
    TableStream(int fd, int timeout) : fd_(fd), timeout_(timeout) {}
    TableStream(const TableStream&) = delete;
    TableStream& operator=(const TableStream&) = delete;
    TableStream(TableStream&& o) noexcept { *this = std::move(o); }
    TableStream& operator=(TableStream&& o) noexcept;
    ~TableStream() { close(); }

    bool is_open() const { return fd_ >= 0; }
    void close();

    // Status of the last operation that failed.
    enum class Status { ok, eof, timeout, error };
    // Writes all of data. On failure: eof/timeout/error with err set.
    Status write_all(std::string_view data, int& err);
    // One byte in c, or eof/timeout/error (err set; 0 for a clean EOF).
    Status get(char& c, int& err);
    // Exactly n bytes appended to out.
    Status read_exact(size_t n, std::string& out, int& err);

private:
    Status fill(int& err);
    int fd_ = -1;
    int timeout_ = 0;
    std::string buf_;
    size_t pos_ = 0;
};

}  // namespace pf::dict
