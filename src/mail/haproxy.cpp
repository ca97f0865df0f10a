// The haproxy PROXY protocol, server side: header parser and the
// peek-parse-consume reader; see haproxy.h.
#include "mail/haproxy.h"

#include "util/escape.h"

#include "mail/address_hostaddr.h"
#include "util/msg.h"
#include "util/strings.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/core.h>

namespace pf::mail {

namespace {

constexpr char kV2Signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};
constexpr std::size_t kV2HeaderLen = 16;
constexpr std::size_t kV2AddrLenInet = 12;
constexpr std::size_t kV2AddrLenInet6 = 36;

// The longest printable address the reference accepts (its buffer holds
// INET6_ADDRSTRLEN bytes with the terminator), and port.
constexpr std::size_t kAddrMax = INET6_ADDRSTRLEN - 1;
constexpr std::size_t kPortMax = NI_MAXSERV - 1;

// "::ffff:1.2.3.4" reads as "1.2.3.4" while IPv4 is enabled.
void fold_v4_mapped(std::string& addr, HaproxyFamilies families) {
    if (families.ipv4 && addr.size() > 7 && util::iequals(std::string_view(addr).substr(0, 7), "::ffff:"))
        addr.erase(0, 7);
}

// A numeric address as getaddrinfo reads it, printed back as getnameinfo
// prints it (so "01.02.03.04" reads as 1.2.3.4, as the reference's does).
bool parse_addr(std::string_view text, bool v6, HaproxyFamilies families, std::string& out) {
    if (text.size() > kAddrMax) return false;
    if (v6 ? !valid_ipv6_hostaddr(text, false) : !valid_ipv4_hostaddr(text, false)) return false;
    addrinfo hints{};
    hints.ai_family = families.ipv4 == families.ipv6 ? AF_UNSPEC : families.ipv4 ? AF_INET : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    std::string host(text);
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return false;
    char buf[NI_MAXHOST];
    int rc = ::getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST);
    ::freeaddrinfo(res);
    if (rc != 0) return false;
    out = buf;
    fold_v4_mapped(out, families);
    return true;
}

// Decimal, no leading zero, at most 65535 (the reference's valid_hostport).
bool parse_port(std::string_view text, std::string& out) {
    if (text.empty() || text.size() > kPortMax) return false;
    if (text[0] == '0' && text.size() > 1) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    if (text.size() > 5) return false;
    int value = 0;
    for (char c : text) value = value * 10 + (c - '0');
    if (value > 65535) return false;
    out = text;
    return true;
}

// The next token separated by spaces or CRs (the reference's mystrtok).
std::string_view next_token(std::string_view& rest) {
    std::size_t start = rest.find_first_not_of(" \r");
    if (start == std::string_view::npos) {
        rest = {};
        return {};
    }
    std::size_t end = rest.find_first_of(" \r", start);
    std::string_view token = rest.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    return token;
}

const char* parse_v1(std::string_view bytes, HaproxyFamilies families, std::size_t* used, HaproxyEndpoints& out) {
    // The reference copies the text as a C string: a NUL ends it.
    if (auto nul = bytes.find('\0'); nul != std::string_view::npos) bytes = bytes.substr(0, nul);
    std::size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) return "missing protocol header terminator";
    std::string_view rest = bytes.substr(0, nl);
    if (next_token(rest) != "PROXY") return "bad or missing protocol header";
    std::string_view proto = next_token(rest);
    bool v6;
    if (util::iequals(proto, "TCP6") && families.ipv6)
        v6 = true;
    else if (util::iequals(proto, "TCP4") && families.ipv4)
        v6 = false;
    else
        return "bad or missing protocol type";
    std::string_view tok = next_token(rest);
    if (tok.empty() || !parse_addr(tok, v6, families, out.client_addr)) return "bad or missing client address";
    tok = next_token(rest);
    if (tok.empty() || !parse_addr(tok, v6, families, out.server_addr)) return "bad or missing server address";
    tok = next_token(rest);
    if (!parse_port(tok, out.client_port)) return "bad or missing client port";
    tok = next_token(rest);
    if (!parse_port(tok, out.server_port)) return "bad or missing server port";
    *used = nl + 1;
    return nullptr;
}

unsigned be16(const unsigned char* p) { return static_cast<unsigned>(p[0]) << 8 | p[1]; }

std::string v2_endpoint(int family, const unsigned char* addr, const unsigned char* port, HaproxyFamilies families,
                        std::string& addr_out) {
    char buf[INET6_ADDRSTRLEN] = "";
    ::inet_ntop(family, addr, buf, sizeof buf);
    addr_out = buf;
    fold_v4_mapped(addr_out, families);
    return std::to_string(be16(port));
}

const char* parse_v2(std::string_view bytes, HaproxyFamilies families, std::size_t* used, HaproxyEndpoints& out) {
    if (bytes.size() < kV2HeaderLen) return "short protocol header";
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    if (std::memcmp(p, kV2Signature, sizeof kV2Signature) != 0) return "unrecognized protocol header";
    unsigned ver_cmd = p[12], fam = p[13];
    std::size_t len = be16(p + 14);
    if ((ver_cmd & 0xF0) != 0x20) return "unrecognized protocol version";
    if (bytes.size() < kV2HeaderLen + len) return "short version 2 protocol header";
    const unsigned char* a = p + kV2HeaderLen;
    switch (ver_cmd & 0x0F) {
    case 0x01:   // PROXY
        if (fam == 0x11) {   // TCP over IPv4
            if (!families.ipv4) return "Postfix IPv4 support is disabled";
            if (len < kV2AddrLenInet) return "short address field";
            out.client_port = v2_endpoint(AF_INET, a, a + 8, families, out.client_addr);
            out.server_port = v2_endpoint(AF_INET, a + 4, a + 10, families, out.server_addr);
        } else if (fam == 0x21) {   // TCP over IPv6
            if (!families.ipv6) return "Postfix IPv6 support is disabled";
            if (len < kV2AddrLenInet6) return "short address field";
            out.client_port = v2_endpoint(AF_INET6, a, a + 32, families, out.client_addr);
            out.server_port = v2_endpoint(AF_INET6, a + 16, a + 34, families, out.server_addr);
        } else {
            return "unsupported network protocol";
        }
        out.non_proxy = false;
        *used = kV2HeaderLen + len;   // TLVs are skipped
        return nullptr;
    case 0x00:   // LOCAL
        out.non_proxy = true;
        *used = kV2HeaderLen + len;
        return nullptr;
    default:
        return "bad command in proxy header";
    }
}


}  // namespace

const char* haproxy_parse(std::string_view bytes, HaproxyFamilies families, std::size_t* used,
                          HaproxyEndpoints& out) {
    out.non_proxy = false;
    // The "UNKNOWN" protocol is refused, as the reference refuses it: it
    // would sidestep address-based access control.
    if (bytes.substr(0, 6) == "PROXY ") return parse_v1(bytes, families, used, out);
    return parse_v2(bytes, families, used, out);
}

bool haproxy_receive(int fd, HaproxyFamilies families, HaproxyEndpoints& out) {
    char buf[kHaproxyHeaderMax];
    ssize_t n;
    do {
        n = ::recv(fd, buf, sizeof buf, MSG_PEEK);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        util::msg_warn("haproxy read: EOF");
        return false;
    }
    std::string_view bytes(buf, static_cast<std::size_t>(n));
    std::size_t used = 0;
    if (const char* err = haproxy_parse(bytes, families, &used, out)) {
        util::msg_warn("haproxy read: {}: {}", err, util::escape_bytes(bytes));
        return false;
    }
    ssize_t got;
    do {
        got = ::recv(fd, buf, used, 0);
    } while (got < 0 && errno == EINTR);
    if (got != static_cast<ssize_t>(used)) {
        util::msg_warn("haproxy read: {}", got < 0 ? std::strerror(errno) : "Success");
        return false;
    }
    return true;
}

HaproxyFamilies haproxy_families(std::string_view inet_protocols) {
    HaproxyFamilies f{false, false};
    for (auto w : util::split_tokens(inet_protocols, util::kListSeparators)) {
        std::string word = util::to_lower(w);
        if (word == "all") f.ipv4 = f.ipv6 = true;
        if (word == "ipv4") f.ipv4 = true;
        if (word == "ipv6") f.ipv6 = true;
    }
    return f;
}

}  // namespace pf::mail
