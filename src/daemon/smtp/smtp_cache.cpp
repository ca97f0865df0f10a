// Connection caching of the smtp/lmtp client: see smtp_cache.h.
#include "daemon/smtp/smtp_cache.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "mail/address_domain_list.h"
#include "util/msg.h"
#include "util/strings.h"

#include <charconv>
#include <stdexcept>
#include <vector>

#include <fmt/core.h>

namespace pf::smtp_agent {

namespace {

// Fields of labels and properties are separated by newlines (none of
// them can hold one); "*" stands for a field that does not apply.
constexpr char kSep = '\n';

std::string field(const std::string& v) { return v.empty() ? std::string("*") : v; }

int time_value(const config::Config& config, const std::string& name) {
    std::string value = config.get(name);
    auto v = config::parse_time_value(value, 's');
    if (!v || *v < 1) util::msg_fatal("invalid {} parameter value: \"{}\"", name, value);
    return *v;
}

template <typename T>
bool number(std::string_view text, T& out) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size();
}

}  // namespace

std::shared_ptr<SmtpCacheSettings> SmtpCacheSettings::from_config(const config::Config& config, bool lmtp) {
    auto c = std::make_shared<SmtpCacheSettings>();
    const std::string prefix = lmtp ? "lmtp_" : "smtp_";
    c->on_demand = config::get_bool_param(config, prefix + "connection_cache_on_demand");
    std::string dests = config.get(prefix + "connection_cache_destinations");
    if (!util::trim(dests).empty()) {
        try {
            c->destinations = std::make_shared<mail::DomainList>(prefix + "connection_cache_destinations", dests,
                                                                 mail::DomainList::Style::exact, false);
        } catch (const std::runtime_error& e) {
            util::msg_fatal("{}", e.what());
        }
    }
    c->cache_time = time_value(config, prefix + "connection_cache_time_limit");
    c->reuse_time_limit = time_value(config, prefix + "connection_reuse_time_limit");
    {
        std::string name = prefix + "connection_reuse_count_limit";
        auto v = config::parse_int_value(config.get(name), 1LL << 30);
        if (!v || *v < 0) util::msg_fatal("invalid {} parameter value: \"{}\"", name, config.get(name));
        c->reuse_count_limit = static_cast<int>(*v);
    }
    c->service = config.get("connection_cache_service_name");
    c->protocol_timeout = time_value(config, "connection_cache_protocol_timeout");
    return c;
}

void SmtpCacheSettings::open_client(const std::string& queue_directory) {
    client = std::make_shared<ipc::ScacheClient>(queue_directory, service, protocol_timeout);
}

CachePolicy cache_policy(const SmtpCacheSettings& cache, const ipc::DeliveryRequest& request,
                         const std::string& domain, const std::string& sender_key) {
    CachePolicy p;
    if (!cache.client) return p;
    bool listed = false;
    if (cache.destinations) {
        auto m = cache.destinations->match(domain);
        if (m == mail::DomainMatch::error)
            util::msg_warn("{}: table lookup problem for {}", cache.destinations->name(), domain);
        listed = m == mail::DomainMatch::yes;
    }
    if (listed) {
        p.load = p.store = true;
    } else if (cache.on_demand) {
        p.load = (request.flags & ipc::kDeliveryConnLoad) != 0;
        p.store = (request.flags & ipc::kDeliveryConnStore) != 0;
    }
    if (p.load || p.store) {
        std::string label = cache.transport;
        label += kSep + field(sender_key);
        label += kSep + field(request.nexthop);
        label += kSep + std::string(request.smtputf8 ? "1" : "0");
        p.dest_label = std::move(label);
    }
    return p;
}

std::string endpoint_label(const SmtpCacheSettings& cache, const SessionPeer& peer, const std::string& sender_key) {
    std::string label = cache.transport;
    label += kSep + field(sender_key);
    label += kSep + field(peer.addr);
    label += kSep + std::to_string(peer.port);
    label += kSep + std::string(peer.unix_socket ? "unix" : "inet");
    return label;
}

std::string encode_session(const SessionPeer& peer, const SessionResume& r) {
    std::vector<std::string> f{peer.name,
                               peer.addr,
                               std::to_string(peer.port),
                               peer.unix_socket ? "1" : "0",
                               peer.nexthop,
                               peer.nexthop_domain,
                               std::to_string(r.features.flags),
                               std::to_string(r.features.xforward),
                               std::to_string(r.features.size_limit),
                               std::to_string(r.expire_time),
                               std::to_string(r.reuse_count)};
    std::string out;
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (i) out += kSep;
        out += field(f[i]);
    }
    return out;
}

std::optional<ReusedConnection> decode_session(ipc::UniqueFd fd, const std::string& prop) {
    auto parts = util::split_tokens(prop, "\n");
    if (parts.size() != 11) return std::nullopt;
    auto text = [](std::string_view v) { return v == "*" ? std::string() : std::string(v); };
    ReusedConnection c;
    c.peer.name = text(parts[0]);
    c.peer.addr = text(parts[1]);
    c.peer.unix_socket = parts[3] == "1";
    c.peer.nexthop = text(parts[4]);
    c.peer.nexthop_domain = text(parts[5]);
    if (!number(parts[2], c.peer.port) || !number(parts[6], c.resume.features.flags) ||
        !number(parts[7], c.resume.features.xforward) || !number(parts[8], c.resume.features.size_limit) ||
        !number(parts[9], c.resume.expire_time) || !number(parts[10], c.resume.reuse_count) ||
        c.resume.reuse_count < 0 || c.peer.addr.empty())
        return std::nullopt;
    c.fd = std::move(fd);
    return c;
}

void save_session(const SmtpCacheSettings& cache, CachePolicy& policy, const SessionPeer& peer,
                  const SessionResume& resume, ipc::UniqueFd fd, const std::string& sender_key) {
    if (!cache.client) return;
    const std::string endp = endpoint_label(cache, peer, sender_key);
    if (!policy.dest_label.empty()) {
        cache.client->save_dest(cache.cache_time, policy.dest_label, "", endp);
        policy.dest_label.clear();
    }
    cache.client->save_endp(cache.cache_time, endp, encode_session(peer, resume), std::move(fd));
}

}  // namespace pf::smtp_agent
