// Listening endpoints as master (and a daemon in stand-alone mode) opens
// them: UNIX stream and datagram sockets, FIFOs and TCP sockets. A stale
// UNIX socket or FIFO at the path is replaced, as the reference does. The
// returned fds are close-on-exec and non-blocking (several daemon processes
// accept on one socket; the losers of a race must not block).
//
// Trust: paths and addresses come from configuration.
#pragma once

#include <expected>
#include <string>
#include <sys/types.h>

namespace pf::util {

// errno-style text on failure ("bind /path: Address in use", ...).
std::expected<int, std::string> listen_unix_stream(const std::string& path, int backlog, mode_t mode);
std::expected<int, std::string> listen_unix_dgram(const std::string& path, mode_t mode);
std::expected<int, std::string> listen_fifo(const std::string& path, mode_t mode);
// host: numeric IPv4/IPv6 address or empty for every address (IPv4 and
// IPv6 when available). port: decimal.
std::expected<int, std::string> listen_inet(const std::string& host, const std::string& port, int backlog);

// Splits "host:port" / "[v6]:port" / "port" into host and port.
bool split_inet_endpoint(const std::string& endpoint, std::string& host, std::string& port);

}  // namespace pf::util
