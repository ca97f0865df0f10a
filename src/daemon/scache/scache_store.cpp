// The connection cache's tables: see scache_store.h.
#include "daemon/scache/scache_store.h"

namespace pf::scache {

void Store::save_endp(int ttl, const std::string& endp_label, const std::string& endp_prop, ipc::UniqueFd fd,
                      Clock::time_point now) {
    endpoints_[endp_label].push_back(Session{std::move(fd), endp_prop, now + std::chrono::seconds(ttl)});
}

std::optional<Found> Store::find_endp(const std::string& endp_label, Clock::time_point now) {
    expire(now);
    auto it = endpoints_.find(endp_label);
    if (it == endpoints_.end() || it->second.empty()) return std::nullopt;
    Found f;
    f.fd = std::move(it->second.front().fd);
    f.endp_prop = std::move(it->second.front().prop);
    it->second.pop_front();
    if (it->second.empty()) endpoints_.erase(it);
    return f;
}

void Store::save_dest(int ttl, const std::string& dest_label, const std::string& dest_prop,
                      const std::string& endp_label, Clock::time_point now) {
    auto& list = destinations_[dest_label];
    auto expires = now + std::chrono::seconds(ttl);
    for (auto& b : list)
        if (b.endp_label == endp_label && b.prop == dest_prop) {
            b.expires = expires;
            return;
        }
    list.push_back(Binding{endp_label, dest_prop, expires});
}

std::optional<Found> Store::find_dest(const std::string& dest_label, Clock::time_point now) {
    expire(now);
    auto it = destinations_.find(dest_label);
    if (it == destinations_.end()) return std::nullopt;
    for (const auto& b : it->second) {
        auto f = find_endp(b.endp_label, now);
        if (f) {
            f->dest_prop = b.prop;
            return f;
        }
    }
    return std::nullopt;
}

void Store::expire(Clock::time_point now) {
    for (auto it = endpoints_.begin(); it != endpoints_.end();) {
        it->second.remove_if([&](const Session& s) { return s.expires <= now; });
        it = it->second.empty() ? endpoints_.erase(it) : std::next(it);
    }
    for (auto it = destinations_.begin(); it != destinations_.end();) {
        it->second.remove_if([&](const Binding& b) { return b.expires <= now; });
        it = it->second.empty() ? destinations_.erase(it) : std::next(it);
    }
}

std::optional<Clock::time_point> Store::next_expiry() const {
    std::optional<Clock::time_point> next;
    auto consider = [&](Clock::time_point t) {
        if (!next || t < *next) next = t;
    };
    for (const auto& [label, list] : endpoints_)
        for (const auto& s : list) consider(s.expires);
    for (const auto& [label, list] : destinations_)
        for (const auto& b : list) consider(b.expires);
    return next;
}

Sizes Store::sizes() const {
    Sizes s;
    s.dest_count = destinations_.size();
    s.endp_count = endpoints_.size();
    for (const auto& [label, list] : endpoints_) s.sess_count += list.size();
    return s;
}

}  // namespace pf::scache
