// tlsmgr request handling (see tlsmgr_service.h).
//
// Trust: request attributes are checked; cache IDs and session bytes are
// opaque data stored as given (the table type limits their size).
#include "daemon/tlsmgr/tlsmgr_service.h"

#include "tls/tls_mgr_client.h"
#include "util/msg.h"

#include <openssl/rand.h>

namespace pf::tlsmgr {

CacheSlot* TlsmgrService::find(std::string_view label) {
    for (auto& s : slots_)
        if (s.label == label) return &s;
    return nullptr;
}

// The slot a request names, or nullptr after the reference's warning.
CacheSlot* TlsmgrService::slot_for(const ipc::AttrList& request, std::string_view what) {
    std::string type(request.get_or("cache_type", ""));
    CacheSlot* slot = find(type);
    if (!slot) util::msg_warn("bogus cache type \"{}\" in \"{}\" request", type, what);
    return slot;
}

int TlsmgrService::ticket_key(std::string& buffer) {
    // Each key issues tickets for half the session timeout, then only
    // decrypts for the other half.
    const int timeout = slots_.front().timeout / 2;
    const std::int64_t now = now_();
    if (const tls::TicketKey* k = keys_.find(buffer, now, timeout)) {
        buffer = k->serialize();
        return tls::kMgrOk;
    }
    if (!buffer.empty()) return tls::kMgrErr;   // no such decryption key
    tls::TicketKey fresh;
    if (RAND_bytes(fresh.name.data(), static_cast<int>(fresh.name.size())) <= 0 ||
        RAND_bytes(fresh.bits.data(), static_cast<int>(fresh.bits.size())) <= 0 ||
        RAND_bytes(fresh.hmac.data(), static_cast<int>(fresh.hmac.size())) <= 0)
        return tls::kMgrErr;
    fresh.tout = now + timeout - 1;
    buffer = keys_.rotate(fresh)->serialize();
    return tls::kMgrOk;
}

ipc::AttrList TlsmgrService::handle(const ipc::AttrList& request) {
    std::string req(request.get_or("request", ""));
    int status = tls::kMgrFail;
    ipc::AttrList reply;
    if (req == "lookup") {
        std::string session;
        auto id = request.get("cache_id");
        if (request.get("cache_type") && id) {
            if (CacheSlot* slot = slot_for(request, req); slot && slot->cache) {
                auto found = slot->cache->lookup(*id, now_());
                status = found ? tls::kMgrOk : tls::kMgrErr;
                if (found) session = std::move(*found);
            }
        }
        reply.add("status", status);
        reply.add("session", std::move(session));
    } else if (req == "update") {
        auto id = request.get("cache_id");
        auto session = request.get("session");
        if (request.get("cache_type") && id && session) {
            if (CacheSlot* slot = slot_for(request, req); slot && slot->cache)
                status = slot->cache->update(*id, *session, now_()) ? tls::kMgrOk : tls::kMgrErr;
        }
        reply.add("status", status);
    } else if (req == "delete") {
        auto id = request.get("cache_id");
        if (request.get("cache_type") && id) {
            if (CacheSlot* slot = slot_for(request, req); slot && slot->cache)
                status = slot->cache->remove(*id) ? tls::kMgrOk : tls::kMgrErr;
        }
        reply.add("status", status);
    } else if (req == "tktkey") {
        std::string buffer;
        if (auto name = request.get("keyname")) {
            buffer = std::string(*name);
            if (!buffer.empty() && buffer.size() != tls::kTicketNameLen) {
                util::msg_warn("invalid session ticket key name length: {}", buffer.size());
            } else if (slots_.front().timeout <= 0) {
                status = tls::kMgrErr;
            } else {
                status = ticket_key(buffer);
            }
        }
        reply.add("status", status);
        reply.add("keybuf", status == tls::kMgrOk ? std::move(buffer) : std::string());
    } else if (req == "seed") {
        std::string seed;
        auto len = request.get_number("size");
        if (len) {
            if (*len <= 0 || *len > 255) {
                util::msg_warn("bogus seed length \"{}\" in \"seed\" request", *len);
            } else {
                seed.resize(static_cast<std::size_t>(*len));
                if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), static_cast<int>(*len)) <= 0) {
                    seed.clear();
                    status = tls::kMgrErr;
                } else {
                    status = tls::kMgrOk;
                }
            }
        }
        reply.add("status", status);
        reply.add("seed", std::move(seed));
    } else if (req == "policy") {
        int cachable = 0;
        int timeout = 0;
        if (request.get("cache_type")) {
            if (CacheSlot* slot = slot_for(request, req)) {
                cachable = slot->cache ? 1 : 0;
                timeout = slot->timeout;
                status = tls::kMgrOk;
            }
        }
        reply.add("status", status);
        reply.add("cachable", cachable);
        reply.add("timeout", timeout);
    } else {
        reply.add("status", status);
    }
    return reply;
}

}  // namespace pf::tlsmgr
