// Who a qmqpd(8) client is, as the reference's qmqpd works it out: the
// numeric address and port, an IPv4-mapped IPv6 address as plain IPv4,
// the reverse name kept only when a forward lookup of it (same address
// family) gives the address back ("unknown" otherwise), and
// "name[addr]" (":port" with qmqpd_client_port_logging) for the logs.
// A client that is not on a TCP socket (stand-alone on a pipe) counts as
// localhost[127.0.0.1], family unspecified, port 0.
//
// Trust: the resolver's answers are checked (numeric names are refused,
// the forward lookup must list the address); names go into logs and the
// Received: header as the resolver gave them.
#pragma once

#include <string>

namespace pf::qmqpd {

struct Peer {
    std::string name = "unknown";
    std::string addr = "unknown";
    std::string rfc_addr = "unknown";   // "IPv6:" prefix for IPv6
    std::string port = "unknown";
    int family = 0;                     // AF_INET, AF_INET6, 0 (AF_UNSPEC)
    std::string namaddr;
};

Peer lookup_peer(int fd, bool port_logging);

}  // namespace pf::qmqpd
