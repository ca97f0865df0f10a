// Where the SMTP/LMTP client connects, as the reference's client reads a
// next-hop: "[host]:port" or "[host]" (no MX lookup: the host's addresses),
// "host:port" or "host" (MX lookup for smtp; lmtp never looks up MX),
// with lmtp's "inet:host:port" and "unix:/path" forms; the port is a
// number or a service name, defaulting to the transport's port ("smtp",
// or lmtp_tcp_port). Then the list of server addresses to try in order:
// the MX hosts by preference (through the system resolver, res_query),
// each with its IPv4/IPv6 addresses; a domain without MX records is its
// own mail host.
//
// Trust: the next-hop comes from our own configuration (transport maps,
// relayhost); DNS answers are parsed with the resolver's own bounded
// parser (ns_initparse).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

namespace pf::smtp {

struct ClientDestination {
    std::string host;        // without brackets; a path for unix
    unsigned port = 0;       // host byte order (0 for unix)
    bool mx_lookup = false;  // "host" or "host:port" for smtp
    bool unix_socket = false;
    std::string display;     // the next-hop as given (for messages)
};

// default_port: "smtp", "24", ... An error text for a bad port or form.
std::expected<ClientDestination, std::string> parse_client_destination(std::string_view nexthop,
                                                                         std::string_view default_port, bool lmtp);

struct ServerAddress {
    std::string hostname;   // the MX host or the destination host
    std::string addr_text;  // numeric form ("127.0.0.1", "::1"; the path for unix)
    sockaddr_storage sa{};
    socklen_t sa_len = 0;
    int preference = 0;
};

struct AddressLookup {
    bool ok = false;
    bool permanent = false;  // not found at all (5.4.4) rather than try again (4.4.3)
    std::string dsn;
    std::string why;         // "Host or domain name not found. Name service error for ..."
    std::vector<ServerAddress> addresses;
};

// ipv4/ipv6: which families inet_protocols allows.
AddressLookup lookup_server_addresses(const ClientDestination& dest, bool ipv4, bool ipv6);

}  // namespace pf::smtp
