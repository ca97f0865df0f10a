// Is a domain this machine? mydestination, or an address literal of one of
// the interfaces we receive mail on (inet_interfaces) or that a proxy
// forwards to us (proxy_interfaces), as the reference's resolve_local.
#include "trivial_rewrite.h"

#include "mail/address_hostaddr.h"
#include "util/msg.h"
#include "util/strings.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>

namespace pf::rewrite {

namespace {

// Canonical text of an address given as text; empty when not an address.
std::string canonical(std::string_view text) {
    std::string s(text);
    in_addr a4{};
    in6_addr a6{};
    char buf[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, s.c_str(), &a4) == 1 && inet_ntop(AF_INET, &a4, buf, sizeof buf)) return buf;
    if (inet_pton(AF_INET6, s.c_str(), &a6) == 1 && inet_ntop(AF_INET6, &a6, buf, sizeof buf)) return buf;
    return {};
}

// A numeric host address as getaddrinfo(AI_NUMERICHOST) reads it, in
// canonical text; empty when it does not.
std::string numeric_host(std::string_view text, int family) {
    std::string s(text);
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    if (getaddrinfo(s.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return {};
    char buf[INET6_ADDRSTRLEN];
    std::string out;
    if (res->ai_family == AF_INET &&
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof buf))
        out = buf;
    else if (res->ai_family == AF_INET6 &&
             inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, buf, sizeof buf))
        out = buf;
    freeaddrinfo(res);
    return out;
}

void add_host(std::vector<std::string>& out, std::string_view name, bool v4, bool v6) {
    std::string item(name);
    if (item.size() > 2 && item.front() == '[' && item.back() == ']') item = item.substr(1, item.size() - 2);
    if (auto c = canonical(item); !c.empty()) {
        out.push_back(c);
        return;
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = v4 && !v6 ? AF_INET : (v6 && !v4 ? AF_INET6 : AF_UNSPEC);
    addrinfo* res = nullptr;
    if (getaddrinfo(item.c_str(), nullptr, &hints, &res) != 0) return;
    for (auto* p = res; p; p = p->ai_next) {
        char buf[INET6_ADDRSTRLEN];
        if (p->ai_family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, buf, sizeof buf);
        else if (p->ai_family == AF_INET6)
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, buf, sizeof buf);
        else
            continue;
        out.emplace_back(buf);
    }
    freeaddrinfo(res);
}

void add_interfaces(std::vector<std::string>& out, std::string_view value, bool v4, bool v6) {
    auto words = util::split_tokens(value, ", \t\r\n");
    for (auto w : words) {
        if (util::iequals(w, "all")) {
            ifaddrs* list = nullptr;
            if (getifaddrs(&list) != 0) continue;
            for (auto* p = list; p; p = p->ifa_next) {
                if (!p->ifa_addr) continue;
                char buf[INET6_ADDRSTRLEN];
                if (p->ifa_addr->sa_family == AF_INET && v4)
                    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(p->ifa_addr)->sin_addr, buf, sizeof buf);
                else if (p->ifa_addr->sa_family == AF_INET6 && v6)
                    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(p->ifa_addr)->sin6_addr, buf, sizeof buf);
                else
                    continue;
                out.emplace_back(buf);
            }
            freeifaddrs(list);
        } else if (util::iequals(w, "loopback-only")) {
            if (v4) out.emplace_back("127.0.0.1");
            if (v6) out.emplace_back("::1");
        } else {
            add_host(out, w, v4, v6);
        }
    }
}

}  // namespace

LocalDomains::LocalDomains(std::string_view mydestination, std::vector<std::string> own, int family)
    : mydestination_("mydestination", mydestination, mail::DomainList::Style::exact, false),
      addresses_(std::move(own)),
      family_(family) {}

int LocalDomains::address_family(std::string_view inet_protocols) {
    bool v4 = false, v6 = false;
    for (auto w : util::split_tokens(inet_protocols, ", \t\r\n")) {
        if (util::iequals(w, "all")) v4 = v6 = true;
        if (util::iequals(w, "ipv4")) v4 = true;
        if (util::iequals(w, "ipv6")) v6 = true;
    }
    if (v4 && !v6) return AF_INET;
    if (v6 && !v4) return AF_INET6;
    return AF_UNSPEC;
}

std::vector<std::string> LocalDomains::interface_addresses(std::string_view inet_interfaces,
                                                           std::string_view proxy_interfaces,
                                                           std::string_view inet_protocols) {
    bool v4 = false, v6 = false;
    for (auto w : util::split_tokens(inet_protocols, ", \t\r\n")) {
        if (util::iequals(w, "all")) v4 = v6 = true;
        if (util::iequals(w, "ipv4")) v4 = true;
        if (util::iequals(w, "ipv6")) v6 = true;
    }
    std::vector<std::string> out;
    add_interfaces(out, inet_interfaces, v4, v6);
    add_interfaces(out, proxy_interfaces, v4, v6);
    return out;
}

int LocalDomains::is_local(std::string_view domain) const {
    if (domain.empty()) return 0;
    if (domain.back() == '.') domain.remove_suffix(1);
    if (domain.empty() || domain.back() == '.') return 0;
    switch (mydestination_.match(domain)) {
    case mail::DomainMatch::yes: return 1;
    case mail::DomainMatch::error: return -1;
    case mail::DomainMatch::no: break;
    }
    if (domain.size() >= 2 && domain.front() == '[' && domain.back() == ']') {
        // The reference checks the syntax itself (warning about bad
        // literals), then lets getaddrinfo() read the numeric form.
        auto bare = mail::valid_mailhost_addr(domain.substr(1, domain.size() - 2), true);
        if (!bare) return 0;
        auto c = numeric_host(*bare, family_);
        if (!c.empty() && std::find(addresses_.begin(), addresses_.end(), c) != addresses_.end()) return 1;
    }
    return 0;
}

}  // namespace pf::rewrite
