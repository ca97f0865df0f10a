// Opening the SMTP/LMTP client's connection to one server address with a
// time limit, as the reference's client does it: a non-blocking connect
// that must complete within smtp_connect_timeout (0: the system's own
// limit); the failure text is the system error ("Connection refused",
// "Connection timed out").
//
// Trust: the address comes from our own lookup.
#pragma once

#include "smtp/smtp_client_dest.h"

#include <expected>
#include <string>

namespace pf::smtp {

// A connected socket (blocking mode, close-on-exec); the caller owns it.
std::expected<int, std::string> connect_server(const ServerAddress& address, int timeout_seconds);

}  // namespace pf::smtp
