// postscreen(8)'s DNSBL score: one request per postscreen_dnsbl_sites
// domain to the dnsblog(8) service ({rbl_domain, client_address, label}),
// each reply ({..., rbl_address="a b c", ttl}) run through that domain's
// filters and weights; concurrent sessions of one client share one score.
// The score's name is the domain (or its postscreen_dnsbl_reply_map text)
// with the largest weight that matched; its TTL the smallest of the
// replies (listed: of the listings; not listed: of the negative answers),
// clamped to postscreen_dnsbl_min_ttl..max_ttl.
//
// Trust: dnsblog is ours, but its replies are checked (a reply for an
// unknown domain or request is ignored; addresses that do not parse match
// no filter).
#include "daemon/postscreen/postscreen_state.h"

#include "ipc/attr.h"
#include "ipc/service_client.h"
#include "util/msg.h"
#include "util/strings.h"

#include <unistd.h>

#include <map>
#include <set>

namespace pf::postscreen {

namespace {

struct Score {
    std::string name;
    int weight = 0;
    bool have_name = false;
    int total = 0;
    int fail_ttl = -1;
    int pass_ttl = -1;
    int refcount = 0;
    int pending = 0;
    long request_id = 0;
    std::set<int> waiters;  // session ids to notify
};

std::map<std::string, Score> g_scores;
std::map<int, std::pair<std::string, std::string>> g_lookups;  // fd -> (client, domain)
long g_request_count = 0;

// The display name of a domain: its postscreen_dnsbl_reply_map answer,
// else the domain itself.
const std::string& safe_name(const std::string& domain) {
    const auto& shown = settings().dnsbl_display;
    auto it = shown.find(domain);
    return it == shown.end() ? domain : it->second;
}

void finish_lookup(int fd) {
    loop().unwatch_fd(fd);
    ::close(fd);
    g_lookups.erase(fd);
}

void apply_reply(Score& score, const std::string& domain, const std::string& addresses, int ttl) {
    std::vector<std::string> replies;
    for (auto a : util::split_tokens(addresses, " ")) replies.emplace_back(a);
    for (const DnsblSite& site : settings().dnsbl_sites) {
        if (site.domain != domain) continue;
        if (!replies.empty()) {
            bool hit = site.filter.empty();
            for (const auto& r : replies)
                if (!hit && site.filter.front().matches(r)) hit = true;
            if (hit) {
                if (!score.have_name || score.weight < site.weight) {
                    score.name = safe_name(site.domain);
                    score.weight = site.weight;
                    score.have_name = true;
                }
                score.total += site.weight;
            }
            int& t = site.weight > 0 ? score.fail_ttl : score.pass_ttl;
            if (t < 0 || t > ttl) t = ttl;
        } else {
            int& t = site.weight > 0 ? score.pass_ttl : score.fail_ttl;
            if (t < 0 || t > ttl) t = ttl;
        }
    }
}

void lookup_done(const std::string& client) {
    auto it = g_scores.find(client);
    if (it == g_scores.end()) return;
    Score& score = it->second;
    if (--score.pending > 0) return;
    std::set<int> waiters = score.waiters;
    for (int id : waiters)
        if (Session* s = find_session(id)) early_dnsbl_done(*s);
}

void on_reply(int fd) {
    auto it = g_lookups.find(fd);
    if (it == g_lookups.end()) return;
    auto [client, domain] = it->second;
    std::string buffer;
    auto reply = ipc::receive_attrs(fd, buffer, 1);
    finish_lookup(fd);
    if (!reply) return;
    auto sc = g_scores.find(client);
    auto label = reply->get_number("label");
    auto ttl = reply->get_number("ttl");
    if (sc == g_scores.end() || !label || *label != sc->second.request_id || !ttl ||
        reply->get_or("client_address", "") != client)
        return;
    std::string rdomain = reply->get_or("rbl_domain", "");
    apply_reply(sc->second, rdomain, reply->get_or("rbl_address", ""), static_cast<int>(*ttl));
    lookup_done(client);
}

}  // namespace

void dnsbl_request(Session& s) {
    const Settings& st = settings();
    auto found = g_scores.find(s.addr);
    if (found != g_scores.end()) {
        Score& score = found->second;
        score.refcount += 1;
        score.waiters.insert(s.id);
        if (score.pending == 0) {
            int id = s.id;
            loop().add_timer(std::chrono::milliseconds(0), [id] {
                if (Session* p = find_session(id); p && !p->have_score) early_dnsbl_done(*p);
            });
        }
        return;
    }
    Score& score = g_scores[s.addr];
    score.request_id = g_request_count++;
    score.refcount = 1;
    score.waiters.insert(s.id);
    std::set<std::string> seen;
    for (const DnsblSite& site : st.dnsbl_sites) {
        if (!seen.insert(site.domain).second) continue;
        auto conn = ipc::connect_unix(st.dnsblog_service, 1, false);
        if (!conn) {
            util::msg_warn("psc_dnsbl_request: connect to {} service: {}", st.dnsblog_service, conn.error());
            continue;
        }
        ipc::AttrList request;
        request.add("rbl_domain", site.domain).add("client_address", s.addr).add("label", score.request_id);
        if (!conn->send(request, 1)) {
            util::msg_warn("psc_dnsbl_request: error sending to {} service", st.dnsblog_service);
            continue;
        }
        int fd = ::dup(conn->fd());
        if (fd < 0) continue;
        g_lookups[fd] = {s.addr, site.domain};
        loop().watch_fd(fd, [fd] { on_reply(fd); });
        std::string client = s.addr;
        loop().add_timer(std::chrono::seconds(st.dnsbl_timeout), [fd, client, domain = site.domain] {
            auto it = g_lookups.find(fd);
            if (it == g_lookups.end() || it->second != std::make_pair(client, domain)) return;
            util::msg_warn("dnsblog reply timeout {}s for {}", settings().dnsbl_timeout, domain);
            finish_lookup(fd);
        });
        score.pending += 1;
    }
}

int dnsbl_retrieve(Session& s, std::string& name, int& ttl) {
    const Settings& st = settings();
    auto it = g_scores.find(s.addr);
    if (it == g_scores.end()) {
        name.clear();
        ttl = st.dnsbl_min_ttl;
        return 0;
    }
    Score& score = it->second;
    score.waiters.erase(s.id);
    int result = score.total;
    name = score.name;
    int t = result > 0 ? score.fail_ttl : score.pass_ttl;
    if (t < st.dnsbl_min_ttl) t = st.dnsbl_min_ttl;
    if (t > st.dnsbl_max_ttl) t = st.dnsbl_max_ttl;
    ttl = t;
    if (--score.refcount < 1) g_scores.erase(it);
    return result;
}

void dnsbl_forget(Session& s) {
    if (!(s.flags & todo_flag(kDnsbl)) || s.have_score) return;
    auto it = g_scores.find(s.addr);
    if (it == g_scores.end() || !it->second.waiters.contains(s.id)) return;
    std::string name;
    int ttl = 0;
    (void)dnsbl_retrieve(s, name, ttl);
    s.have_score = true;
}

}  // namespace pf::postscreen
