// tlsmgr client requests (see tls_mgr_client.h).
//
// Trust: replies are from our tlsmgr; each is checked for its attributes.
#include "tls/tls_mgr_client.h"

#include "ipc/attr.h"
#include "ipc/service_client.h"
#include "util/msg.h"

#include <ctime>
#include <map>
#include <unistd.h>

namespace pf::tls {

namespace {

constexpr int kMgrTimeout = 30;

// The in-process cache (mgr_use_memory_cache).
struct MemoryCache {
    bool active = false;    // requests are answered here
    bool enabled = false;   // sessions may be cached
    std::map<std::string, std::string, std::less<>> sessions;
    int count = 0;
    int hits = 0;
};

MemoryCache& memory() {
    static MemoryCache m;
    return m;
}

struct MgrState {
    std::string endpoint = "private/tlsmgr";
    ipc::ServiceConnection conn;
    TicketKeyRing keys;
};

MgrState& state() {
    static MgrState s;
    return s;
}

// One request, tried twice (the connection is reopened, one second
// apart) as the reference's client does; its warnings: "connect to
// private/tlsmgr: ..." for each failed connect, "problem talking to server
// private/tlsmgr: ..." when both tries failed.
std::optional<ipc::AttrList> request(const ipc::AttrList& req) {
    MgrState& st = state();
    std::string why;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (attempt > 0) ::sleep(1);
        if (!st.conn.is_open()) {
            auto c = ipc::connect_unix(st.endpoint, kMgrTimeout);
            if (!c) {
                why = c.error();
                util::msg_warn("connect to {}: {}", st.endpoint, why);
                continue;
            }
            st.conn = std::move(*c);
        }
        if (st.conn.send(req, kMgrTimeout)) {
            auto reply = st.conn.receive(kMgrTimeout);
            if (reply) return std::move(*reply);
            why = std::string(ipc::attr_error_text(reply.error()));
        } else {
            why = "Broken pipe";
        }
        st.conn = ipc::ServiceConnection();
    }
    util::msg_warn("problem talking to server {}: {}", st.endpoint, why);
    return std::nullopt;
}

int status_of(const std::optional<ipc::AttrList>& reply) {
    if (!reply) return kMgrFail;
    auto s = reply->get_number("status");
    return s ? static_cast<int>(*s) : kMgrFail;
}

}  // namespace

void mgr_set_endpoint(std::string path) {
    memory() = MemoryCache{};
    MgrState& st = state();
    st.endpoint = std::move(path);
    st.conn = ipc::ServiceConnection();
    st.keys.clear();
}

void mgr_use_memory_cache(bool enabled) {
    memory().active = true;
    memory().enabled = enabled;
}

MemoryCacheStatus mgr_memory_cache_status() {
    const MemoryCache& m = memory();
    return {m.enabled, m.count, m.hits};
}

int mgr_seed(int len, std::string& out) {
    if (memory().active) {
        out.clear();
        return kMgrOk;
    }
    auto reply = request({{"request", "seed"}, {"size", std::to_string(len)}});
    int status = status_of(reply);
    out.clear();
    if (status == kMgrOk) {
        auto seed = reply->get("seed");
        if (!seed) return kMgrFail;
        out = std::string(*seed);
    }
    return status;
}

int mgr_policy(std::string_view cache_type, bool& cachable, int& timeout) {
    cachable = false;
    timeout = 0;
    if (memory().active) {
        cachable = memory().enabled;
        timeout = 3600;
        return kMgrOk;
    }
    auto reply = request({{"request", "policy"}, {"cache_type", std::string(cache_type)}});
    int status = status_of(reply);
    if (status != kMgrOk) return status;
    auto c = reply->get_number("cachable");
    auto t = reply->get_number("timeout");
    if (!c || !t) return kMgrFail;
    cachable = *c != 0;
    timeout = static_cast<int>(*t);
    return status;
}

int mgr_lookup(std::string_view cache_type, std::string_view cache_id, std::string& session) {
    session.clear();
    if (memory().active) {
        MemoryCache& m = memory();
        auto it = m.enabled ? m.sessions.find(cache_id) : m.sessions.end();
        if (it == m.sessions.end()) return kMgrErr;
        session = it->second;
        ++m.hits;
        return kMgrOk;
    }
    auto reply = request({{"request", "lookup"}, {"cache_type", std::string(cache_type)},
                          {"cache_id", std::string(cache_id)}});
    int status = status_of(reply);
    if (status == kMgrOk) {
        auto s = reply->get("session");
        if (!s) return kMgrFail;
        session = std::string(*s);
    }
    return status;
}

int mgr_update(std::string_view cache_type, std::string_view cache_id, std::string_view session) {
    if (memory().active) {
        MemoryCache& m = memory();
        if (!m.enabled) return kMgrErr;
        m.sessions[std::string(cache_id)] = std::string(session);
        ++m.count;
        return kMgrOk;
    }
    return status_of(request({{"request", "update"}, {"cache_type", std::string(cache_type)},
                              {"cache_id", std::string(cache_id)}, {"session", std::string(session)}}));
}

int mgr_delete(std::string_view cache_type, std::string_view cache_id) {
    if (memory().active) {
        MemoryCache& m = memory();
        if (!m.enabled) return kMgrErr;
        if (m.sessions.erase(std::string(cache_id)) > 0) --m.count;
        return kMgrOk;
    }
    return status_of(request({{"request", "delete"}, {"cache_type", std::string(cache_type)},
                              {"cache_id", std::string(cache_id)}}));
}

const TicketKey* mgr_ticket_key(std::string_view name, int timeout) {
    if (timeout <= 0) return nullptr;
    MgrState& st = state();
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    if (const TicketKey* k = st.keys.find(name, now, timeout)) return k;
    auto reply = request({{"request", "tktkey"}, {"keyname", std::string(name)}});
    if (status_of(reply) != kMgrOk) return nullptr;
    auto buf = reply->get("keybuf");
    if (!buf) return nullptr;
    auto key = TicketKey::parse(*buf);
    if (!key) return nullptr;
    return st.keys.rotate(*key);
}

}  // namespace pf::tls
