// smtpd(8)'s endpoints from postscreen's passed attributes or from an
// upstream proxy's PROXY header; see smtpd_upstream.h.
#include "daemon/smtpd/smtpd_upstream.h"

#include "config/expand.h"
#include "config/mail_params.h"
#include "mail/address_hostaddr.h"
#include "mail/haproxy.h"
#include "util/msg.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace pf::smtpd {

namespace {

std::vector<std::pair<std::string, std::string>> g_pass_attrs;

const std::string* find_attr(std::string_view name) {
    for (const auto& [k, v] : g_pass_attrs)
        if (k == name) return &v;
    return nullptr;
}

// The reference's valid_hostport.
bool valid_port(std::string_view p) {
    if (p.empty() || p.size() > 5 || (p[0] == '0' && p.size() > 1)) return false;
    int v = 0;
    for (char c : p) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    return v <= 65535;
}

void set_client(Session& s, const std::string& addr, const std::string& port) {
    s.addr = addr;
    if (addr.find(':') != std::string::npos) {
        s.rfc_addr = "IPv6:" + addr;
        s.addr_family = AF_INET6;
    } else {
        s.rfc_addr = addr;
        s.addr_family = AF_INET;
    }
    s.port = port;
}

bool wait_readable(int fd, int seconds) {
    pollfd p{fd, POLLIN, 0};
    int rc;
    do {
        rc = ::poll(&p, 1, seconds * 1000);
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
}

}  // namespace

void set_pass_attributes(std::vector<std::pair<std::string, std::string>> attrs) { g_pass_attrs = std::move(attrs); }

bool peer_from_pass_attributes(const Server& server, Session& s) {
    if (!server.passed || g_pass_attrs.empty()) return false;
    const std::string* v = find_attr("client_address");
    if (!v) util::msg_fatal("missing client address from proxy");
    if (v->find(':') != std::string::npos) {
        if (!mail::valid_ipv6_hostaddr(*v, true)) util::msg_fatal("bad IPv6 client address syntax from proxy: {}", *v);
    } else if (!mail::valid_ipv4_hostaddr(*v, true)) {
        util::msg_fatal("bad IPv4 client address syntax from proxy: {}", *v);
    }
    std::string addr = *v;
    if (!(v = find_attr("client_port"))) util::msg_fatal("missing client port from proxy");
    if (!valid_port(*v)) util::msg_fatal("bad TCP client port number syntax from proxy: {}", *v);
    set_client(s, addr, *v);
    if (!(v = find_attr("server_address"))) util::msg_fatal("missing server address from proxy");
    if (!mail::valid_hostaddr(*v, true)) util::msg_fatal("bad IPv6 server address syntax from proxy: {}", *v);
    s.server_addr = *v;
    if (!(v = find_attr("server_port"))) util::msg_fatal("missing server port from proxy");
    if (!valid_port(*v)) util::msg_fatal("bad TCP server port number syntax from proxy: {}", *v);
    s.server_port = *v;
    if (server.config && !server.config->get("smtpd_upstream_proxy_protocol").empty())
        util::msg_warn("ignoring non-empty smtpd_upstream_proxy_protocol setting behind postscreen");
    return true;
}

ProxyPeer peer_from_upstream_proxy(const Server& server, Session& s, int fd) {
    if (!server.config) return ProxyPeer::none;
    const config::Config& cfg = *server.config;
    std::string proto = cfg.get("smtpd_upstream_proxy_protocol");
    if (server.standalone || proto.empty()) return ProxyPeer::none;
    if (proto != "haproxy") util::msg_fatal("unsupported smtpd_upstream_proxy_protocol value: {}", proto);
    auto timeout = config::parse_time_value(cfg.get("smtpd_upstream_proxy_timeout"), 's');
    if (!timeout || *timeout < 1)
        util::msg_fatal("invalid smtpd_upstream_proxy_timeout: {}", cfg.get("smtpd_upstream_proxy_timeout"));
    if (!wait_readable(fd, static_cast<int>(*timeout))) {
        util::msg_warn("haproxy read: timeout error");
        return ProxyPeer::failed;
    }
    mail::HaproxyEndpoints ep;
    if (!mail::haproxy_receive(fd, mail::haproxy_families(cfg.get("inet_protocols")), ep)) return ProxyPeer::failed;
    if (ep.non_proxy) return ProxyPeer::local;
    set_client(s, ep.client_addr, ep.client_port);
    s.server_addr = ep.server_addr;
    s.server_port = ep.server_port;
    return ProxyPeer::proxied;
}

}  // namespace pf::smtpd
