// The server side of the haproxy PROXY protocol, as the reference's
// postscreen (postscreen_upstream_proxy_protocol = haproxy) and smtpd
// (smtpd_upstream_proxy_protocol = haproxy) read it before any SMTP: the
// version 1 text line ("PROXY TCP4|TCP6 client server cport sport\n") and
// the version 2 binary header (PROXY over TCP4/TCP6, or LOCAL), with the
// reference's error texts, its ::ffff: folding when IPv4 is enabled, its
// 536-byte peek and its "haproxy read: ..." warnings.
//
// Trust: the header bytes come from the network and are hostile; nothing
// is read past the bytes given, addresses go through getaddrinfo with
// AI_NUMERICHOST only, and a failed header is logged escaped.
#pragma once

#include <string>
#include <string_view>

namespace pf::mail {

// The most the reference peeks for a header (the default IPv4 TCP MSS).
inline constexpr std::size_t kHaproxyHeaderMax = 536;

struct HaproxyEndpoints {
    bool non_proxy = false;   // v2 LOCAL: the caller uses the socket's own addresses
    std::string client_addr, client_port, server_addr, server_port;
};

struct HaproxyFamilies {
    bool ipv4 = true;
    bool ipv6 = true;
};

// Parses a header at the start of bytes. Returns nullptr and sets *used
// (the header's length) and out on success; otherwise the reference's
// error text ("short protocol header", "bad or missing client address",
// ...), and out and *used are unspecified.
const char* haproxy_parse(std::string_view bytes, HaproxyFamilies families, std::size_t* used,
                          HaproxyEndpoints& out);

// Peeks at fd (which must be readable or blocking), parses, and then
// consumes exactly the header. Logs the reference's warnings; false on
// any error (EOF, a bad header, a failed read).
bool haproxy_receive(int fd, HaproxyFamilies families, HaproxyEndpoints& out);

// The families that inet_protocols enables ("all", "ipv4", "ipv6", lists).
HaproxyFamilies haproxy_families(std::string_view inet_protocols);

}  // namespace pf::mail
