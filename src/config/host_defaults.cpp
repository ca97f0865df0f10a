// Host-dependent defaults; see host_defaults.h.
#include "config/host_defaults.h"

#include "util/msg.h"
#include "util/strings.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace pf::config {
namespace {
std::string g_process_name = "postfix";

int prefix_length(const unsigned char* mask, size_t len) {
    int bits = 0;
    for (size_t i = 0; i < len; ++i) {
        for (int b = 7; b >= 0; --b) {
            if (mask[i] & (1u << b)) ++bits;
            else return bits;
        }
    }
    return bits;
}

void apply_prefix(unsigned char* addr, size_t len, int prefix) {
    for (size_t i = 0; i < len; ++i) {
        int keep = std::clamp(prefix - static_cast<int>(i * 8), 0, 8);
        addr[i] &= static_cast<unsigned char>(keep == 0 ? 0 : (0xff << (8 - keep)));
    }
}
}  // namespace

std::string default_myhostname(std::string_view mydomain_setting) {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) std::strcpy(buf, "localhost");
    std::string name(buf);
    if (name.find('.') == std::string::npos) {
        name += '.';
        name += mydomain_setting.empty() ? std::string_view("localdomain") : mydomain_setting;
    }
    return util::to_lower(name);
}

std::string default_mydomain(std::string_view myhostname) {
    auto dot = myhostname.find('.');
    if (dot == std::string_view::npos || dot + 1 >= myhostname.size()) return "localdomain";
    return std::string(myhostname.substr(dot + 1));
}

std::string default_mynetworks(std::string_view style, std::string_view inet_protocols) {
    bool want4 = false, want6 = false;
    for (auto p : util::split_tokens(inet_protocols, util::kListSeparators)) {
        if (util::iequals(p, "all")) want4 = want6 = true;
        else if (util::iequals(p, "ipv4")) want4 = true;
        else if (util::iequals(p, "ipv6")) want6 = true;
    }
    if (util::msg_verbose) {
        util::msg_info("name_mask: {}", inet_protocols);
        util::msg_info("name_mask: {}", style);
    }
    std::vector<std::string> v4, v6;
    int count4 = 0, count6 = 0;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return "127.0.0.0/8";
    for (ifaddrs* ifa = list; ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || !ifa->ifa_netmask) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (ifa->ifa_addr->sa_family == AF_INET && want4) {
            auto* sin = reinterpret_cast<sockaddr_in*>(ifa->ifa_addr);
            auto* msk = reinterpret_cast<sockaddr_in*>(ifa->ifa_netmask);
            unsigned char a[4], m[4];
            ++count4;
            std::memcpy(a, &sin->sin_addr, 4);
            std::memcpy(m, &msk->sin_addr, 4);
            int prefix = prefix_length(m, 4);
            if (style == "host") prefix = 32;
            else if (style == "class") prefix = a[0] < 128 ? 8 : (a[0] < 192 ? 16 : (a[0] < 224 ? 24 : 32));
            apply_prefix(a, 4, prefix);
            ::inet_ntop(AF_INET, a, text, sizeof text);
            std::string net = std::string(text) + "/" + std::to_string(prefix);
            if (std::find(v4.begin(), v4.end(), net) == v4.end()) v4.push_back(net);
        } else if (ifa->ifa_addr->sa_family == AF_INET6 && want6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(ifa->ifa_addr);
            auto* msk6 = reinterpret_cast<sockaddr_in6*>(ifa->ifa_netmask);
            unsigned char a[16], m[16];
            ++count6;
            std::memcpy(a, &sin6->sin6_addr, 16);
            std::memcpy(m, &msk6->sin6_addr, 16);
            int prefix = style == "host" ? 128 : prefix_length(m, 16);
            apply_prefix(a, 16, prefix);
            ::inet_ntop(AF_INET6, a, text, sizeof text);
            std::string net = "[" + std::string(text) + "]/" + std::to_string(prefix);
            if (std::find(v6.begin(), v6.end(), net) == v6.end()) v6.push_back(net);
        }
    }
    ::freeifaddrs(list);
    if (util::msg_verbose) {
        if (want4) util::msg_info("inet_addr_local: configured {} IPv4 addresses", count4);
        if (want6) util::msg_info("inet_addr_local: configured {} IPv6 addresses", count6);
        for (const auto& list_part : {v4, v6})
            for (const auto& n : list_part) util::msg_info("been_here: {}: 0", n);
    }
    // Each entry is followed by a space, as in the reference's value (which
    // shows when the value is expanded inside another list).
    std::string out;
    for (const auto& list_part : {v4, v6})
        for (const auto& n : list_part) {
            out += n;
            out += ' ';
        }
    if (util::msg_verbose) util::msg_info("mynetworks_core: {}", out);
    return out;
}

void set_process_name(std::string_view argv0) {
    auto slash = argv0.rfind('/');
    g_process_name = std::string(slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1));
}

const std::string& process_name() { return g_process_name; }

}  // namespace pf::config
