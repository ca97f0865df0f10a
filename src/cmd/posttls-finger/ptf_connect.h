// Where posttls-finger(1) connects, as the reference's: the destination
// "[host]:port", "[host]", "host:port" or "host" (with SMTP a bare host is
// a domain whose MX hosts are tried; brackets, or LMTP, skip the MX
// lookup), LMTP's "inet:" prefix and "unix:/path" form; the port is a
// number (1-65535) or a service name (known_tcp_ports first, then
// /etc/services, "smtp" being 25 when even that fails). Then each address
// in turn, each connect bounded by the -t time limit, with the reference's
// texts: "Failed to establish session to D via H: connect to H[A]:P:
// Connection refused", "Destination address lookup failed: ...".
//
// Trust: the destination is the invoking user's; names are resolved with
// the system resolver (smtp/smtp_client_dest.h).
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace pf::config { class Config; }

namespace pf::ptf {

struct Destination {
    std::string host;      // without brackets or "ipv6:"
    unsigned port = 0;     // host byte order
    bool bracketed = false;
};

// "host" / "[host]:port" ... into host and port; def_service is "smtp" or
// "24". Fatal errors with the reference's texts ("bad network port: X for
// destination: D", "unknown service: X/tcp", "E in server description: D").
Destination parse_destination(const config::Config& config, std::string_view destination,
                              std::string_view def_service);

// An open connection and the names the reference logs it by.
struct Connection {
    int fd = -1;
    std::string hostname;      // the host name (or the address) it was found by
    std::string addr;          // the numeric address (the path for unix)
    std::string namaddrport;   // "host[addr]:port" ("host[path]" for unix)
    std::string addrport;      // "[addr]:port" (the path for unix)
    unsigned port = 0;
};

struct ConnectRequest {
    std::string dest;          // as given (without "inet:")
    bool smtp = true;
    bool ipv4 = true, ipv6 = true;
    bool prefer_ipv6 = false, prefer_ipv4 = false;
    int timeout = 30;
};

// The first address that accepts, or nullopt after the reference's log
// lines (one per failed address, or the lookup failure).
std::optional<Connection> connect_inet(const config::Config& config, const ConnectRequest& req,
                                       std::string& nexthop);

// LMTP over a UNIX-domain socket; myhostname names the peer.
std::optional<Connection> connect_unix(const std::string& path, const std::string& myhostname, int timeout,
                                       std::string& why);

}  // namespace pf::ptf
