// Passing an open file descriptor to another local process over a
// UNIX-domain stream socket (SCM_RIGHTS), as the reference's scache(8)
// protocol moves cached SMTP connections between the smtp/lmtp client and
// the cache daemon. Each transfer carries exactly one data byte (a NUL)
// next to the descriptor, as the reference sends it: a receiver that reads
// zero bytes has met the end of the connection, not a descriptor.
//
// The reference never mixes ordinary stream writes with a descriptor
// transfer in flight: the side about to receive writes a small attribute
// message first and the sender waits for it (see scache_client.h). These
// helpers only do the transfer itself.
//
// Trust: the peer is another of our processes; a message without a
// descriptor, with more than one, or with a truncated control part is an
// error (extra descriptors are closed, never leaked).
#pragma once

#include "util/unique_fd.h"

#include <expected>
#include <string>
#include <utility>

namespace pf::ipc {

// An owned file descriptor (closed on destruction).
using UniqueFd = util::UniqueFd;

// Sends fd over socket_fd (it stays open here: the caller closes it once
// the peer confirmed). errno-style text on failure.
std::expected<void, std::string> send_fd(int socket_fd, int fd, int timeout);

// Receives one descriptor from socket_fd (close-on-exec set), waiting at
// most timeout seconds (0: no limit). "end of file" when the peer closed.
std::expected<UniqueFd, std::string> receive_fd(int socket_fd, int timeout);

}  // namespace pf::ipc
