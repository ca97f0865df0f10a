// anvil's per-client counters and rates; see anvil_table.h.
#include "daemon/anvil/anvil_table.h"

#include <fmt/core.h>

#include <climits>

namespace pf::anvil {

namespace {

// "Nov 28 07:00:00": ctime() without the weekday and the year.
std::string when_text(std::time_t t) {
    char buf[32];
    struct tm tm;
    localtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%b %e %H:%M:%S", &tm);
    return buf;
}

}  // namespace

void AnvilTable::peak(Peak& p, int value, std::string_view ident, std::time_t now) {
    p.value = value;
    p.ident = std::string(ident);
    p.when = now;
}

void AnvilTable::bump(int Remote::*what, Remote& r, std::time_t now) {
    if (r.start + time_unit_ < now) {
        r.rate = r.mail = r.rcpt = r.ntls = r.auth = 0;
        r.start = now;
    }
    if (r.*what < INT_MAX) r.*what += 1;
}

void AnvilTable::drop_one(Remote& r, std::time_t now) {
    if (r.count > 0 && --r.count == 0) r.expire_at = now + time_unit_;
}

Remote& AnvilTable::conn_update(int client, std::string_view ident, std::time_t now) {
    auto it = remotes_.find(ident);
    if (it == remotes_.end()) {
        Remote r;
        r.count = 1;
        r.rate = 1;
        r.start = now;
        it = remotes_.emplace(std::string(ident), r).first;
        if (max_cache_ < static_cast<int>(remotes_.size())) {
            max_cache_ = static_cast<int>(remotes_.size());
            max_cache_time_ = now;
        }
    } else {
        bump(&Remote::rate, it->second, now);
        it->second.count++;
        it->second.expire_at = 0;
    }
    // One connection per anvil client: a new one replaces the old one.
    auto& held = client_remote_[client];
    if (!held.empty())
        if (auto old = remotes_.find(held); old != remotes_.end()) drop_one(old->second, now);
    held = it->first;
    return it->second;
}

const Remote& AnvilTable::connect(int client, std::string_view ident, std::time_t now) {
    Remote& r = conn_update(client, ident, now);
    if (r.rate > conn_rate_.value) peak(conn_rate_, r.rate, ident, now);
    if (r.count > conn_count_.value) peak(conn_count_, r.count, ident, now);
    return r;
}

void AnvilTable::disconnect(int client, std::string_view ident, std::time_t now) {
    auto held = client_remote_.find(client);
    auto it = remotes_.find(ident);
    if (held != client_remote_.end() && it != remotes_.end() && held->second == ident) {
        drop_one(it->second, now);
        client_remote_.erase(held);
    }
}

void AnvilTable::client_gone(int client, std::time_t now) {
    auto held = client_remote_.find(client);
    if (held == client_remote_.end()) return;
    std::string ident = held->second;
    disconnect(client, ident, now);
    client_remote_.erase(client);
}

int AnvilTable::event(int client, Event what, std::string_view ident, std::time_t now) {
    auto it = remotes_.find(ident);
    Remote& r = it != remotes_.end() ? it->second : conn_update(client, ident, now);
    switch (what) {
    case Event::mail:
        bump(&Remote::mail, r, now);
        if (r.mail > mail_rate_.value) peak(mail_rate_, r.mail, ident, now);
        return r.mail;
    case Event::rcpt:
        bump(&Remote::rcpt, r, now);
        if (r.rcpt > rcpt_rate_.value) peak(rcpt_rate_, r.rcpt, ident, now);
        return r.rcpt;
    case Event::newtls:
        bump(&Remote::ntls, r, now);
        if (r.ntls > ntls_rate_.value) peak(ntls_rate_, r.ntls, ident, now);
        return r.ntls;
    case Event::auth:
        bump(&Remote::auth, r, now);
        if (r.auth > auth_rate_.value) peak(auth_rate_, r.auth, ident, now);
        return r.auth;
    }
    return 0;
}

int AnvilTable::newtls_rate(std::string_view ident, std::time_t now) {
    auto it = remotes_.find(ident);
    if (it == remotes_.end()) return 0;
    Remote& r = it->second;
    if (r.start != 0 && r.start + time_unit_ < now) {
        r.rate = r.mail = r.rcpt = r.ntls = r.auth = 0;
        r.start = 0;
    }
    return r.ntls;
}

Remote AnvilTable::lookup(std::string_view ident, std::time_t now) {
    auto it = remotes_.find(ident);
    if (it == remotes_.end()) return Remote{};
    Remote& r = it->second;
    if (r.start != 0 && r.start + time_unit_ < now) {
        r.rate = r.mail = r.rcpt = r.ntls = r.auth = 0;
        r.start = 0;
    }
    return r;
}

void AnvilTable::expire(std::time_t now) {
    for (auto it = remotes_.begin(); it != remotes_.end();) {
        if (it->second.count == 0 && it->second.expire_at != 0 && it->second.expire_at <= now)
            it = remotes_.erase(it);
        else
            ++it;
    }
}

std::vector<std::string> AnvilTable::status_report() {
    std::vector<std::string> out;
    auto rate = [&](Peak& p, std::string_view name) {
        if (p.value > 0) {
            out.push_back(fmt::format("statistics: max {} rate {}/{}s for ({}) at {}", name, p.value, time_unit_,
                                      p.ident, when_text(p.when)));
            p.value = 0;
        }
    };
    rate(conn_rate_, "connection");
    if (conn_count_.value > 0) {
        out.push_back(fmt::format("statistics: max connection count {} for ({}) at {}", conn_count_.value,
                                  conn_count_.ident, when_text(conn_count_.when)));
        conn_count_.value = 0;
    }
    rate(mail_rate_, "message");
    rate(rcpt_rate_, "recipient");
    rate(ntls_rate_, "newtls");
    rate(auth_rate_, "auth");
    if (max_cache_ > 0) {
        out.push_back(fmt::format("statistics: max cache size {} at {}", max_cache_, when_text(max_cache_time_)));
        max_cache_ = 0;
    }
    return out;
}

}  // namespace pf::anvil
