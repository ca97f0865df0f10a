// Next-hop parsing and server address lookup for the SMTP/LMTP client:
// see smtp_client_dest.h.
#include "smtp/smtp_client_dest.h"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/un.h>

#include <fmt/core.h>

namespace pf::smtp {

namespace {

std::expected<unsigned, std::string> parse_port(std::string_view text) {
    if (text.empty()) return std::unexpected(std::string("empty port"));
    if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (text.size() > 5) return std::unexpected(fmt::format("bad port number: {}", text));
        unsigned v = static_cast<unsigned>(std::stoul(std::string(text)));
        if (v == 0 || v > 65535) return std::unexpected(fmt::format("bad port number: {}", text));
        return v;
    }
    servent* sp = ::getservbyname(std::string(text).c_str(), "tcp");
    if (sp == nullptr) return std::unexpected(fmt::format("unknown service: {}/tcp", text));
    return ntohs(static_cast<uint16_t>(sp->s_port));
}

}  // namespace

std::expected<ClientDestination, std::string> parse_client_destination(std::string_view nexthop,
                                                                         std::string_view default_port, bool lmtp) {
    ClientDestination d;
    d.display = std::string(nexthop);
    std::string_view rest = nexthop;
    if (lmtp) {
        if (rest.starts_with("unix:")) {
            d.unix_socket = true;
            d.host = std::string(rest.substr(5));
            if (d.host.empty()) return std::unexpected(std::string("empty unix-domain socket path"));
            return d;
        }
        if (rest.starts_with("inet:")) rest.remove_prefix(5);
    }
    std::string_view port_text = default_port;
    if (!rest.empty() && rest[0] == '[') {
        std::size_t close = rest.find(']');
        if (close == std::string_view::npos) return std::unexpected(fmt::format("missing \"]\" in {}", nexthop));
        d.host = std::string(rest.substr(1, close - 1));
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return std::unexpected(fmt::format("garbage after \"]\" in {}", nexthop));
            port_text = after.substr(1);
        }
        d.mx_lookup = false;
    } else {
        std::size_t colon = rest.rfind(':');
        // A bare IPv6 address has several colons: no port then.
        if (colon != std::string_view::npos && rest.find(':') == colon) {
            d.host = std::string(rest.substr(0, colon));
            port_text = rest.substr(colon + 1);
        } else {
            d.host = std::string(rest);
        }
        d.mx_lookup = !lmtp;
    }
    if (d.host.empty()) return std::unexpected(fmt::format("empty host name in {}", nexthop));
    auto port = parse_port(port_text);
    if (!port) return std::unexpected(port.error());
    d.port = *port;
    return d;
}

namespace {

void add_host_addresses(std::vector<ServerAddress>& out, const std::string& host, unsigned port, int pref, bool ipv4,
                        bool ipv6, int& gai_error) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = ipv4 && !ipv6 ? AF_INET : (ipv6 && !ipv4 ? AF_INET6 : AF_UNSPEC);
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0) {
        gai_error = rc;
        return;
    }
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
        ServerAddress a;
        a.hostname = host;
        a.preference = pref;
        std::memcpy(&a.sa, ai->ai_addr, ai->ai_addrlen);
        a.sa_len = static_cast<socklen_t>(ai->ai_addrlen);
        char buf[INET6_ADDRSTRLEN] = {};
        if (ai->ai_family == AF_INET) {
            auto* sin = reinterpret_cast<sockaddr_in*>(&a.sa);
            sin->sin_port = htons(static_cast<uint16_t>(port));
            ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
        } else if (ai->ai_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.sa);
            sin6->sin6_port = htons(static_cast<uint16_t>(port));
            ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
        } else {
            continue;
        }
        a.addr_text = buf;
        bool dup = std::any_of(out.begin(), out.end(), [&](const ServerAddress& o) { return o.addr_text == a.addr_text; });
        if (!dup) out.push_back(std::move(a));
    }
    ::freeaddrinfo(res);
}

struct MxRecord {
    int pref;
    std::string host;
};

// MX records of name: nullopt + *nxdomain/tempfail on failure; an empty
// list when the name exists without MX.
std::vector<MxRecord> query_mx(const std::string& name, int& herr) {
    std::vector<MxRecord> out;
    unsigned char answer[NS_MAXMSG];
    int len = ::res_query(name.c_str(), ns_c_in, ns_t_mx, answer, sizeof(answer));
    if (len < 0) {
        herr = h_errno;
        return out;
    }
    herr = 0;
    // The answer is parsed here with dn_expand only (the ns_* parser lives
    // in libresolv, which the build does not link): header, questions,
    // then the answer records, every step checked against the length.
    if (len < 12) {
        herr = TRY_AGAIN;
        return out;
    }
    const unsigned char* base = answer;
    const unsigned char* end = answer + len;
    int qdcount = (answer[4] << 8) | answer[5];
    int ancount = (answer[6] << 8) | answer[7];
    const unsigned char* p = answer + 12;
    char host[NS_MAXDNAME];
    for (int i = 0; i < qdcount; ++i) {
        int n = ::dn_expand(base, end, p, host, sizeof(host));
        if (n < 0 || end - p < n + 4) return out;
        p += n + 4;
    }
    for (int i = 0; i < ancount; ++i) {
        int n = ::dn_expand(base, end, p, host, sizeof(host));
        if (n < 0 || end - p < n + 10) return out;
        p += n;
        int type = (p[0] << 8) | p[1];
        int rdlen = (p[8] << 8) | p[9];
        p += 10;
        if (end - p < rdlen) return out;
        if (type == ns_t_mx && rdlen >= 3) {
            int pref = (p[0] << 8) | p[1];
            if (::dn_expand(base, end, p + 2, host, sizeof(host)) >= 0) out.push_back({pref, host});
        }
        p += rdlen;
    }
    std::stable_sort(out.begin(), out.end(), [](const MxRecord& a, const MxRecord& b) { return a.pref < b.pref; });
    return out;
}

}  // namespace

AddressLookup lookup_server_addresses(const ClientDestination& dest, bool ipv4, bool ipv6) {
    AddressLookup r;
    if (dest.unix_socket) {
        ServerAddress a;
        a.hostname = dest.host;
        a.addr_text = dest.host;
        auto* sun = reinterpret_cast<sockaddr_un*>(&a.sa);
        sun->sun_family = AF_UNIX;
        if (dest.host.size() >= sizeof(sun->sun_path)) {
            r.dsn = "5.4.4";
            r.permanent = true;
            r.why = fmt::format("unix-domain socket path too long: {}", dest.host);
            return r;
        }
        std::memcpy(sun->sun_path, dest.host.data(), dest.host.size());
        a.sa_len = static_cast<socklen_t>(sizeof(sa_family_t) + dest.host.size() + 1);
        r.addresses.push_back(std::move(a));
        r.ok = true;
        return r;
    }
    int gai_error = 0;
    if (dest.mx_lookup) {
        int herr = 0;
        auto mx = query_mx(dest.host, herr);
        if (herr == HOST_NOT_FOUND) {
            r.permanent = true;
            r.dsn = "5.4.4";
            r.why = fmt::format("Host or domain name not found. Name service error for name={} type=MX: Host not found",
                                dest.host);
            return r;
        }
        if (herr != 0 && herr != NO_DATA) {
            r.dsn = "4.4.3";
            r.why = fmt::format(
                "Host or domain name not found. Name service error for name={} type=MX: Host not found, try again",
                dest.host);
            return r;
        }
        for (const auto& m : mx) add_host_addresses(r.addresses, m.host, dest.port, m.pref, ipv4, ipv6, gai_error);
        if (mx.empty()) add_host_addresses(r.addresses, dest.host, dest.port, 0, ipv4, ipv6, gai_error);
    } else {
        add_host_addresses(r.addresses, dest.host, dest.port, 0, ipv4, ipv6, gai_error);
    }
    if (r.addresses.empty()) {
        bool again = gai_error == EAI_AGAIN || gai_error == EAI_SYSTEM || gai_error == EAI_MEMORY;
        r.permanent = !again;
        r.dsn = again ? "4.4.3" : "5.4.4";
        r.why = fmt::format("Host or domain name not found. Name service error for name={} type=A: Host not found{}",
                            dest.host, again ? ", try again" : "");
        return r;
    }
    r.ok = true;
    return r;
}

}  // namespace pf::smtp
