// Where smtpd(8) learns the client's and server's endpoints when they are
// not its socket's: from the attributes postscreen(8) passed with the
// client (a master.cf "pass" service), or from the PROXY header of an
// upstream load balancer (smtpd_upstream_proxy_protocol = haproxy, within
// smtpd_upstream_proxy_timeout), as the reference's smtpd_peer.c and
// smtpd_haproxy.c do, with their warnings and fatal errors.
//
// Trust: the passed attributes come from our own postscreen and are
// checked as the reference checks them; the PROXY header is hostile
// (mail/haproxy.h parses it).
#pragma once

#include "daemon/smtpd/smtpd_session.h"

#include <string>
#include <utility>
#include <vector>

namespace pf::smtpd {

// The attributes that came with the current passed client (smtpd.cpp sets
// them for each client of a pass service).
void set_pass_attributes(std::vector<std::pair<std::string, std::string>> attrs);

// A passed client: fills s.addr, rfc_addr, addr_family, port, server_addr
// and server_port from the attributes and returns true; false when there
// are none (the socket's own addresses apply).
bool peer_from_pass_attributes(const Server& server, Session& s);

enum class ProxyPeer {
    none,        // no upstream proxy configured: the socket's addresses
    proxied,     // s.addr etc. are the proxy's client and server
    local,       // a v2 LOCAL header: the socket's addresses
    failed,      // no usable header: the socket's addresses, then 421 and hang up
};
ProxyPeer peer_from_upstream_proxy(const Server& server, Session& s, int fd);

}  // namespace pf::smtpd
