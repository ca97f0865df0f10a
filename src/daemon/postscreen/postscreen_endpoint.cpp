// postscreen(8)'s endpoint lookup before a session starts: the client's
// and server's addresses from the socket, or, with
// postscreen_upstream_proxy_protocol = haproxy, from the PROXY header an
// upstream load balancer sends first (read when the socket turns readable,
// within postscreen_upstream_proxy_timeout; a v2 LOCAL header means the
// socket's own addresses). As the reference: any failure is answered with
// "421 4.3.2 No system resources" and the connection closed before
// "CONNECT from" is logged; an unknown protocol name is fatal.
//
// Trust: the header comes from the network and is hostile (mail/haproxy.h
// parses it); the protocol name and timeout come from main.cf.
#include "daemon/postscreen/postscreen_state.h"

#include "config/expand.h"
#include "config/mail_params.h"
#include "mail/haproxy.h"
#include "util/msg.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>

namespace pf::postscreen {

namespace {

std::string g_protocol;
int g_timeout = 5;
mail::HaproxyFamilies g_families;

struct Pending {
    util::EventLoop::TimerId timer = 0;
    void (*done)(int fd, const Endpoints&) = nullptr;
};
std::map<int, Pending> g_pending;

// "[addr]" and port of a socket address, IPv4-mapped IPv6 as IPv4.
bool endpoint_text(const sockaddr_storage& ss, std::string& addr, std::string& port) {
    char buf[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
        auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
        if (!::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) return false;
        port = std::to_string(ntohs(sin->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            if (!::inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf, sizeof buf)) return false;
        } else if (!::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf)) {
            return false;
        }
        port = std::to_string(ntohs(sin6->sin6_port));
    } else {
        return false;
    }
    addr = buf;
    return true;
}

void refuse(int fd) {
    static const char kNoResources[] = "421 4.3.2 No system resources\r\n";
    (void)!::write(fd, kNoResources, sizeof kNoResources - 1);
    ::close(fd);
}

void finish_haproxy(int fd, bool timed_out) {
    auto it = g_pending.find(fd);
    if (it == g_pending.end()) return;
    Pending p = it->second;
    g_pending.erase(it);
    loop().unwatch_fd(fd);
    if (!timed_out && p.timer) loop().cancel_timer(p.timer);
    mail::HaproxyEndpoints hp;
    bool ok;
    if (timed_out) {
        util::msg_warn("haproxy read: time limit exceeded");
        ok = false;
    } else {
        ok = mail::haproxy_receive(fd, g_families, hp);
    }
    if (!ok) {
        refuse(fd);
        return;
    }
    Endpoints ep;
    if (hp.non_proxy) {
        if (!local_endpoints(fd, ep)) {
            refuse(fd);
            return;
        }
    } else {
        ep.addr = std::move(hp.client_addr);
        ep.port = std::move(hp.client_port);
        ep.server_addr = std::move(hp.server_addr);
        ep.server_port = std::move(hp.server_port);
    }
    p.done(fd, ep);
}

}  // namespace

void endpoint_init(const config::Config& cfg) {
    g_protocol = cfg.get("postscreen_upstream_proxy_protocol");
    auto t = config::parse_time_value(cfg.get("postscreen_upstream_proxy_timeout"), 's');
    if (!t || *t < 1)
        util::msg_fatal("invalid postscreen_upstream_proxy_timeout: {}", cfg.get("postscreen_upstream_proxy_timeout"));
    g_timeout = static_cast<int>(*t);
    g_families = mail::haproxy_families(cfg.get("inet_protocols"));
}

bool local_endpoints(int fd, Endpoints& ep) {
    sockaddr_storage peer{}, local{};
    socklen_t plen = sizeof peer, llen = sizeof local;
    return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0 &&
           ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0 && endpoint_text(peer, ep.addr, ep.port) &&
           endpoint_text(local, ep.server_addr, ep.server_port);
}

void endpoint_lookup(int fd, void (*done)(int fd, const Endpoints&)) {
    if (g_protocol.empty()) {
        Endpoints ep;
        if (!local_endpoints(fd, ep)) {
            refuse(fd);
            return;
        }
        done(fd, ep);
        return;
    }
    if (g_protocol != "haproxy") util::msg_fatal("unsupported postscreen_upstream_proxy_protocol value: {}", g_protocol);
    Pending& p = g_pending[fd];
    p.done = done;
    p.timer = loop().add_timer(std::chrono::seconds(g_timeout), [fd] { finish_haproxy(fd, true); });
    loop().watch_fd(fd, [fd] { finish_haproxy(fd, false); });
}

}  // namespace pf::postscreen
