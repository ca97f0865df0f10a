// The real outside services of the restriction engine, used when the
// caller (the protocol engine) leaves CheckServices members empty: DNS
// through the system resolver (res_query: A, AAAA, MX, NS, PTR, TXT; the
// answer's status tells NXDOMAIN from "no record of that type") and
// getaddrinfo ("ADDR": host addresses of the families inet_protocols
// enables, /etc/hosts included, as the reference's hostname_to_sockaddr;
// EAI_NONAME is nxdomain, EAI_NODATA not_found), address resolution through
// trivial-rewrite (a local-context rewrite, then resolve, as the
// reference's smtpd_resolve_addr), policy-server sockets (inet:host:port,
// unix:path relative to queue_directory) and sleep.
//
// Trust: DNS answers are parsed here with bounds checks on every length and
// compression pointer (at most 64 jumps); trivial-rewrite is ours.
#include "daemon/smtpd/smtpd_check_impl.h"

#include "ipc/rewrite_client.h"
#include "ipc/verify_client.h"
#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace pf::smtpd {

namespace {

using Answer = CheckServices::DnsAnswer;

Answer dns_addrinfo(std::string_view name, int family = AF_UNSPEC) {
    Answer out;
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(std::string(name).c_str(), nullptr, &hints, &res);
    if (rc != 0) {
        out.status = rc == EAI_AGAIN    ? Answer::Status::temp_fail
                   : rc == EAI_NONAME   ? Answer::Status::nxdomain
                   : rc == EAI_NODATA   ? Answer::Status::not_found
                                        : Answer::Status::perm_fail;
        return out;
    }
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        char buf[INET6_ADDRSTRLEN];
        const void* src = ai->ai_family == AF_INET
                              ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                              : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
        if (inet_ntop(ai->ai_family, src, buf, sizeof buf)) {
            std::string a = buf;
            bool dup = false;
            for (const auto& v : out.values) dup = dup || v == a;
            if (!dup) out.values.push_back(a);
        }
    }
    freeaddrinfo(res);
    out.status = out.values.empty() ? Answer::Status::not_found : Answer::Status::ok;
    return out;
}

// Reads a (possibly compressed) domain name at off; returns the offset after
// it in the record (not after a pointer target), or nullopt when malformed.
std::optional<std::size_t> read_name(const unsigned char* msg, std::size_t len, std::size_t off, std::string* out) {
    std::size_t after = 0;
    int jumps = 0;
    std::string name;
    for (;;) {
        if (off >= len) return std::nullopt;
        unsigned c = msg[off];
        if (c == 0) {
            if (!after) after = off + 1;
            break;
        }
        if ((c & 0xc0) == 0xc0) {
            if (off + 1 >= len || ++jumps > 64) return std::nullopt;
            if (!after) after = off + 2;
            off = ((c & 0x3f) << 8) | msg[off + 1];
            continue;
        }
        if ((c & 0xc0) != 0 || off + 1 + c > len) return std::nullopt;
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<const char*>(msg + off + 1), c);
        if (name.size() > 1024) return std::nullopt;
        off += 1 + c;
    }
    if (out) *out = name.empty() ? std::string(".") : name;
    return after;
}

// The values of the answer records of one type in a DNS reply.
std::optional<std::vector<std::string>> parse_answers(const unsigned char* msg, std::size_t len, int type) {
    if (len < 12) return std::nullopt;
    unsigned qd = (msg[4] << 8) | msg[5];
    unsigned an = (msg[6] << 8) | msg[7];
    std::size_t off = 12;
    for (unsigned i = 0; i < qd; ++i) {
        auto next = read_name(msg, len, off, nullptr);
        if (!next || *next + 4 > len) return std::nullopt;
        off = *next + 4;
    }
    std::vector<std::string> values;
    for (unsigned i = 0; i < an; ++i) {
        auto next = read_name(msg, len, off, nullptr);
        if (!next || *next + 10 > len) return std::nullopt;
        off = *next;
        int rtype = (msg[off] << 8) | msg[off + 1];
        std::size_t rdlen = (msg[off + 8] << 8) | msg[off + 9];
        off += 10;
        if (off + rdlen > len) return std::nullopt;
        const unsigned char* rd = msg + off;
        char text[INET6_ADDRSTRLEN];
        std::string name;
        if (rtype == type) {
            if (type == ns_t_a && rdlen == 4) {
                inet_ntop(AF_INET, rd, text, sizeof text);
                values.emplace_back(text);
            } else if (type == ns_t_aaaa && rdlen == 16) {
                inet_ntop(AF_INET6, rd, text, sizeof text);
                values.emplace_back(text);
            } else if (type == ns_t_mx && rdlen > 2) {
                if (read_name(msg, len, off + 2, &name)) values.push_back(name);
            } else if (type == ns_t_ns || type == ns_t_ptr) {
                if (read_name(msg, len, off, &name)) values.push_back(name);
            } else if (type == ns_t_txt) {
                std::string s;
                for (std::size_t p = 0; p < rdlen;) {
                    std::size_t l = rd[p];
                    if (p + 1 + l > rdlen) break;
                    s.append(reinterpret_cast<const char*>(rd + p + 1), l);
                    p += 1 + l;
                }
                values.push_back(std::move(s));
            }
        }
        off += rdlen;
    }
    return values;
}

Answer dns_query(std::string_view name, std::string_view type, int family) {
    if (type == "ADDR") return dns_addrinfo(name, family);
    int t = type == "A" ? ns_t_a : type == "AAAA" ? ns_t_aaaa : type == "MX" ? ns_t_mx : type == "NS" ? ns_t_ns
          : type == "PTR" ? ns_t_ptr : type == "TXT" ? ns_t_txt : -1;
    Answer out;
    if (t < 0) {
        out.status = Answer::Status::perm_fail;
        return out;
    }
    unsigned char buf[8192];
    int len = res_query(std::string(name).c_str(), ns_c_in, t, buf, sizeof buf);
    if (len < 0) {
        switch (h_errno) {
        case HOST_NOT_FOUND: out.status = Answer::Status::nxdomain; break;
        case NO_DATA: out.status = Answer::Status::not_found; break;
        case TRY_AGAIN: out.status = Answer::Status::temp_fail; break;
        default: out.status = Answer::Status::perm_fail; break;
        }
        return out;
    }
    auto answers = parse_answers(buf, static_cast<std::size_t>(len), t);
    if (!answers) {
        out.status = Answer::Status::perm_fail;
        return out;
    }
    out.values = std::move(*answers);
    out.status = out.values.empty() ? Answer::Status::not_found : Answer::Status::ok;
    return out;
}

int connect_endpoint(std::string_view endpoint, const std::string& queue_directory) {
    if (endpoint.starts_with("inet:")) {
        std::string hp(endpoint.substr(5));
        auto colon = hp.rfind(':');
        if (colon == std::string::npos) return -1;
        std::string host = hp.substr(0, colon), port = hp.substr(colon + 1);
        if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return -1;
        int fd = -1;
        for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
            fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (fd < 0) continue;
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
                int saved = errno;
                close(fd);
                errno = saved;
                fd = -1;
            }
        }
        int saved = errno;
        freeaddrinfo(res);
        errno = saved;
        return fd;
    }
    std::string path;
    if (endpoint.starts_with("unix:"))
        path = std::string(endpoint.substr(5));
    else if (endpoint.starts_with("private:") || endpoint.starts_with("public:"))
        path = std::string(endpoint.substr(0, endpoint.find(':'))) + "/" +
               std::string(endpoint.substr(endpoint.find(':') + 1));
    else
        return -1;
    if (!path.empty() && path.front() != '/') path = queue_directory + "/" + path;
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (path.size() >= sizeof sun.sun_path) return -1;
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

}  // namespace

int inet_protocols_family(std::string_view inet_protocols) {
    bool v4 = false, v6 = false;
    for (auto w : util::split_braced_list(inet_protocols)) {
        if (util::iequals(w, "all")) v4 = v6 = true;
        if (util::iequals(w, "ipv4")) v4 = true;
        if (util::iequals(w, "ipv6")) v6 = true;
    }
    return v4 && !v6 ? AF_INET : v6 && !v4 ? AF_INET6 : AF_UNSPEC;
}

bool SmtpdCheck::Impl::own_inet_address(std::string_view addr) {
    if (!own_addresses_known) {
        own_addresses_known = true;
        std::vector<std::string> words;
        for (auto w : util::split_braced_list(inet_interfaces)) words.push_back(w);
        bool all = words.empty();
        for (const auto& w : words) all = all || util::iequals(w, "all");
        if (all) {
            ifaddrs* list = nullptr;
            if (getifaddrs(&list) == 0) {
                for (ifaddrs* i = list; i; i = i->ifa_next) {
                    if (!i->ifa_addr) continue;
                    char buf[INET6_ADDRSTRLEN];
                    int family = i->ifa_addr->sa_family;
                    const void* src = nullptr;
                    if (family == AF_INET) src = &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
                    if (family == AF_INET6) src = &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr;
                    if (src && inet_ntop(family, src, buf, sizeof buf)) own_addresses.emplace_back(buf);
                }
                freeifaddrs(list);
            }
        } else {
            for (const auto& w : words) {
                if (util::iequals(w, "loopback-only") || util::iequals(w, "localhost")) {
                    own_addresses.emplace_back("127.0.0.1");
                    own_addresses.emplace_back("::1");
                    continue;
                }
                std::string host = w;
                if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
                auto a = dns_addrinfo(host);
                for (auto& v : a.values) own_addresses.push_back(std::move(v));
            }
        }
    }
    for (const auto& a : own_addresses)
        if (util::iequals(a, addr)) return true;
    return false;
}

void SmtpdCheck::Impl::install_default_services() {
    if (!services.dns) {
        int family = inet_protocols_family(inet_protocols);
        services.dns = [family](std::string_view name, std::string_view type) { return dns_query(name, type, family); };
    }
    // smtpd runs in the queue directory, or in its chroot jail where the
    // configured path does not exist: reach the services relative to ".".
    if (!services.resolve) {
        auto client = std::make_shared<ipc::RewriteClient>(".");
        services.resolve = [client](std::string_view sender,
                                    std::string_view address) -> std::optional<CheckServices::Resolved> {
            std::string addr(address);
            if (!addr.empty()) {
                auto rw = client->rewrite_internal(ipc::kRewriteRuleLocal, addr);
                if (!rw) return std::nullopt;
                addr = rw->address;
            }
            auto r = client->resolve(sender, addr);
            if (!r || r->is_fail()) return std::nullopt;
            return CheckServices::Resolved{r->flags, r->transport, r->nexthop, r->recipient};
        };
    }
    if (!services.policy_connect) {
        std::string qdir = params.queue_directory;
        services.policy_connect = [qdir](std::string_view endpoint) { return connect_endpoint(endpoint, qdir); };
    }
    if (!services.sleep) services.sleep = [](int seconds) { ::sleep(static_cast<unsigned>(seconds)); };
    if (!services.verify) {
        std::string qdir = ".";
        std::string service = params.verify_service;
        services.verify = [qdir, service](std::string_view address) -> std::optional<CheckServices::VerifyResult> {
            auto r = ipc::verify_query(qdir, service, address, 3600);
            if (!r) {
                if (util::msg_verbose) util::msg_info("verify query: {}", r.error());
                return std::nullopt;
            }
            return CheckServices::VerifyResult{static_cast<int>(r->status), r->reason};
        };
    }
}

}  // namespace pf::smtpd
