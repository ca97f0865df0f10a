// posttls-finger(1) destinations and connections (see ptf_connect.h).
//
// Trust: the destination text is the invoking user's and is checked here;
// resolver answers come through the system resolver.
#include "cmd/posttls-finger/ptf_connect.h"

#include "config/config.h"
#include "smtp/smtp_client_connect.h"
#include "smtp/smtp_client_dest.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <optional>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace pf::ptf {

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_hostaddr(const std::string& s) {
    unsigned char buf[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The reference's hostname syntax: labels of letters, digits, '-' and
// '_' (no leading or trailing '-'), at most 63 bytes each and 255 in all,
// not all numeric.
bool valid_hostname(std::string_view s) {
    if (s.empty() || s.size() > 255) return false;
    bool numeric = true;
    for (auto label : util::split_tokens(s, ".")) {
        if (label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label) {
            bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
            bool digit = c >= '0' && c <= '9';
            if (!alpha && !digit) return false;
            if (alpha) numeric = false;
        }
    }
    if (s.front() == '.' || s.find("..") != std::string_view::npos) return false;
    return !numeric;
}

// known_tcp_ports ("lmtp=24, smtp=25, smtps=submissions=465, ..."): the
// port of a service name it lists, else the name unchanged.
std::string filter_known_port(const config::Config& config, const std::string& service) {
    for (auto item : util::split_tokens(config.get("known_tcp_ports"), ", \t\r\n")) {
        auto names = util::split_tokens(item, "=");
        if (names.size() < 2) continue;
        for (std::size_t i = 0; i + 1 < names.size(); ++i)
            if (names[i] == service) return std::string(names.back());
    }
    return service;
}

}  // namespace

Destination parse_destination(const config::Config& config, std::string_view destination,
                              std::string_view def_service) {
    Destination d;
    std::string buf(destination);
    std::string service;
    const char* err = nullptr;
    bool have_host = true;
    if (!buf.empty() && buf.front() == '[') {
        std::string rest = buf.substr(1);
        bool ipv6 = util::iequals(std::string_view(rest).substr(0, 5), "ipv6:");
        if (ipv6) rest = rest.substr(5);
        auto close = rest.find(']');
        if (close == std::string::npos) {
            err = "missing \"]\"";
        } else {
            d.host = rest.substr(0, close);
            std::string after = rest.substr(close + 1);
            if (!after.empty() && after.front() != ':') {
                err = "garbage after \"]\"";
            } else {
                if (!after.empty()) after.erase(0, 1);
                unsigned char tmp[sizeof(in6_addr)];
                if (ipv6 && ::inet_pton(AF_INET6, d.host.c_str(), tmp) != 1) err = "malformed IPv6 address";
                service = after.empty() ? std::string(def_service) : after;
            }
        }
        d.bracketed = true;
    } else {
        auto colon = buf.rfind(':');
        if (colon != std::string::npos) {
            d.host = buf.substr(0, colon);
            have_host = !d.host.empty();
            service = colon + 1 < buf.size() ? buf.substr(colon + 1) : std::string(def_service);
        } else {
            d.host = buf;
            have_host = !buf.empty();
            service = std::string(def_service);
        }
    }
    if (!err && !have_host) err = "missing host information";
    if (!err && !valid_hostname(d.host) && !valid_hostaddr(d.host))
        err = "valid hostname or network address required";
    if (!err && !service.empty() && service.front() >= '0' && service.front() <= '9' && !all_digits(service))
        err = "garbage after numerical service";
    if (err) util::msg_fatal("{} in server description: {}", err, destination);
    service = filter_known_port(config, service);
    if (all_digits(service)) {
        long port = service.size() > 6 ? 65536 : std::atol(service.c_str());
        if (port >= 65536 || port == 0)
            util::msg_fatal("bad network port: {} for destination: {}", service, destination);
        d.port = static_cast<unsigned>(port);
    } else if (const servent* sp = ::getservbyname(service.c_str(), "tcp")) {
        d.port = ntohs(static_cast<uint16_t>(sp->s_port));
    } else if (service == "smtp") {
        d.port = 25;
    } else {
        util::msg_fatal("unknown service: {}/tcp", service);
    }
    return d;
}

std::optional<Connection> connect_inet(const config::Config& config, const ConnectRequest& req,
                                       std::string& nexthop) {
    Destination d = parse_destination(config, req.dest, req.smtp ? "smtp" : "24");
    if (nexthop.empty()) nexthop = d.host;
    smtp::ClientDestination cd;
    cd.host = d.host;
    cd.port = d.port;
    cd.mx_lookup = req.smtp && !d.bracketed;
    cd.display = req.dest;
    smtp::AddressLookup found = smtp::lookup_server_addresses(cd, req.ipv4, req.ipv6);
    if (!found.ok) {
        util::msg_info("Destination address lookup failed: {}", found.why);
        return std::nullopt;
    }
    auto& list = found.addresses;
    if (req.prefer_ipv4 || req.prefer_ipv6) {
        int want = req.prefer_ipv6 ? AF_INET6 : AF_INET;
        std::stable_sort(list.begin(), list.end(), [want](const auto& a, const auto& b) {
            if (a.preference != b.preference) return a.preference < b.preference;
            return (a.sa.ss_family == want) > (b.sa.ss_family == want);
        });
    }
    for (const auto& a : list) {
        auto fd = smtp::connect_server(a, req.timeout);
        if (!fd) {
            util::msg_info("Failed to establish session to {} via {}: connect to {}[{}]:{}: {}", req.dest, a.hostname,
                           a.hostname, a.addr_text, d.port, fd.error());
            continue;
        }
        Connection c;
        c.fd = *fd;
        c.hostname = a.hostname;
        c.addr = a.addr_text;
        c.port = d.port;
        c.namaddrport = fmt::format("{}[{}]:{}", a.hostname, a.addr_text, d.port);
        c.addrport = fmt::format("[{}]:{}", a.addr_text, d.port);
        return c;
    }
    return std::nullopt;
}

std::optional<Connection> connect_unix(const std::string& path, const std::string& myhostname, int timeout,
                                       std::string& why) {
    sockaddr_un sun{};
    if (path.size() >= sizeof(sun.sun_path)) {
        why = fmt::format("unix-domain name too long: {}", path);
        return std::nullopt;
    }
    smtp::ServerAddress a;
    a.hostname = myhostname;
    a.addr_text = path;
    auto* p = reinterpret_cast<sockaddr_un*>(&a.sa);
    p->sun_family = AF_UNIX;
    std::memcpy(p->sun_path, path.data(), path.size());
    a.sa_len = static_cast<socklen_t>(sizeof(sockaddr_un));
    auto fd = smtp::connect_server(a, timeout);
    if (!fd) {
        why = fmt::format("connect to {}[{}]: {}", myhostname, path, fd.error());
        return std::nullopt;
    }
    Connection c;
    c.fd = *fd;
    c.hostname = myhostname;
    c.addr = path;
    c.namaddrport = fmt::format("{}[{}]", myhostname, path);
    c.addrport = path;
    return c;
}

}  // namespace pf::ptf
