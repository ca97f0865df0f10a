// dnsblog(8): the DNS list lookup service postscreen(8) asks, one request
// per connection on private/dnsblog: {rbl_domain, client_address, label}
// → the same three plus rbl_address (the A records found, blank-separated,
// empty when not listed) and ttl (the smallest TTL of those records, or of
// the SOA record of a negative answer; -1 when none). The query name is
// the client's IPv4 octets reversed (IPv6: its 32 nibbles reversed) then
// the list's domain. Each listing is logged "addr A listed by domain D as
// R"; a failed lookup "dnsblog_query: lookup error for DNS query Q: why".
// dnsblog_reply_delay delays replies (for testing).
//
// Privileges: mail_owner, chrooted when master.cf says so (the resolver
// configuration is read before the chroot). Trust: requests come from
// postscreen through the private socket; a malformed one is dropped. DNS
// responses are outside input (dnsblog_answer.h).
#include "daemon/dnsblog/dnsblog_answer.h"

#include "config/mail_params.h"
#include "ipc/attr.h"
#include "ipc/mail_server.h"
#include "util/msg.h"
#include "util/strings.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <unistd.h>

#include <fmt/core.h>

namespace {

using namespace pf;

int g_delay = 0;

// The reversed address, or empty when it is no address.
std::string reverse_name(const std::string& addr) {
    in6_addr a6{};
    if (addr.find(':') != std::string::npos) {
        if (::inet_pton(AF_INET6, addr.c_str(), &a6) != 1) return {};
        std::string out;
        for (int i = 15; i >= 0; --i) out += fmt::format("{:x}.{:x}.", a6.s6_addr[i] & 0xF, a6.s6_addr[i] >> 4);
        return out;
    }
    in_addr a4{};
    if (::inet_pton(AF_INET, addr.c_str(), &a4) != 1) return {};
    auto octets = util::split_tokens(addr, ".");
    std::string out;
    for (auto it = octets.rbegin(); it != octets.rend(); ++it) out.append(*it).append(".");
    return out;
}

std::string why_text(int rcode, const std::string& query, bool no_reply) {
    if (no_reply) return fmt::format("Host or domain name not found. Name service error for name={} type=A: Host not found, try again", query);
    if (rcode == 2) return fmt::format("Host or domain name not found. Name service error for name={} type=A: Host not found, try again", query);
    return fmt::format("Name service error for name={} type=A: rcode {}", query, rcode);
}

// Looks the client up under the domain: the addresses found and the TTL.
std::string query(const std::string& domain, const std::string& addr, long& ttl) {
    ttl = -1;
    std::string reversed = reverse_name(addr);
    if (reversed.empty()) util::msg_fatal("dnsblog_query: unable to convert address {}", addr);
    std::string name = reversed + domain;
    uint8_t request[NS_PACKETSZ];
    uint8_t response[65536];
    int qlen = ::res_mkquery(ns_o_query, name.c_str(), ns_c_in, ns_t_a, nullptr, 0, nullptr, request, sizeof request);
    int rlen = qlen < 0 ? -1 : ::res_send(request, qlen, response, sizeof response);
    if (rlen < 0) {
        util::msg_warn("dnsblog_query: lookup error for DNS query {}: {}", name, why_text(-1, name, true));
        return {};
    }
    auto answer = dnsblog::parse_a_answer(std::span<const uint8_t>(response, static_cast<std::size_t>(rlen)));
    std::string result;
    if (answer.status == dnsblog::Answer::Status::ok) {
        for (const auto& [a, t] : answer.addresses) {
            util::msg_info("addr {} listed by domain {} as {}", addr, domain, a);
            if (!result.empty()) result += ' ';
            result += a;
            if (ttl < 0 || ttl > t) ttl = t;
        }
    } else if (answer.status == dnsblog::Answer::Status::not_found) {
        if (util::msg_verbose) util::msg_info("dnsblog_query: addr {} not listed by domain {}", addr, domain);
        ttl = answer.negative_ttl;
    } else {
        util::msg_warn("dnsblog_query: lookup error for DNS query {}: {}", name, why_text(answer.rcode, name, false));
    }
    return result;
}

bool serve(ipc::ServerContext&, int fd) {
    std::string buffer;
    auto request = ipc::receive_attrs(fd, buffer, 100);
    if (!request) return false;
    auto domain = request->get("rbl_domain");
    auto addr = request->get("client_address");
    auto label = request->get_number("label");
    if (!domain || !addr || !label) return false;
    long ttl = -1;
    std::string result = query(std::string(*domain), std::string(*addr), ttl);
    if (g_delay > 0) ::sleep(static_cast<unsigned>(g_delay));
    ipc::AttrList reply;
    reply.add("rbl_domain", std::string(*domain)).add("client_address", std::string(*addr));
    reply.add("label", *label).add("rbl_address", result).add("ttl", static_cast<long long>(ttl));
    (void)ipc::send_attrs(fd, reply, 100);
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        g_delay = config::parse_time_value(ctx.config.get("dnsblog_reply_delay"), 's').value_or(0);
        // The resolver reads its configuration now, before a chroot.
        ::res_init();
    };
    hooks.post_init = [](ipc::ServerContext& ctx) {
        if (!ctx.args.empty()) util::msg_fatal("unexpected command-line argument: {}", ctx.args.front());
        ctx.max_use = 0;
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), serve);
}
