// local(8) "new mail" notices for comsat (biff = yes), as the reference
// sends them after each delivery to an mbox file (not Maildir, not /file):
// one UDP datagram "<login name>@<mailbox size before the message>" with
// its terminating NUL, to the biff/udp service on localhost (IPv4). The
// address is looked up once per process; problems are warnings ("service
// not found: biff/udp", "host not found: localhost", "biff_notify: <error>")
// and never affect the delivery.
//
// Trust: the login name comes from the password database.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace pf::local {

// The datagram's bytes, NUL included.
std::string biff_message(std::string_view logname, off_t offset);

void biff_notify(std::string_view logname, off_t offset);

}  // namespace pf::local
