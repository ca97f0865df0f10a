// tlsmgr's request handling, as the reference's tlsmgr answers on
// private/tlsmgr (see tls/tls_mgr_client.h for the requests): the three
// session caches (smtpd, smtp, lmtp; each enabled when its
// *_tls_session_cache_database is set and its timeout is positive), the
// caching policy, random bytes, and the session ticket keys (made here,
// each issuing for half of smtpd_tls_session_cache_timeout and
// decrypting for another half; none when that timeout is 0).
// Warnings are the reference's ("bogus cache type \"x\" in \"lookup\"
// request", "bogus seed length ...", "invalid session ticket key name
// length: N").
//
// Trust: requests come from local processes that can reach private/tlsmgr
// (mail system daemons); every attribute is checked before use.
#pragma once

#include "ipc/attr.h"
#include "tls/tls_scache.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pf::tlsmgr {

struct CacheSlot {
    std::string label;                         // "smtpd", "smtp", "lmtp"
    int timeout = 0;                           // after the reference's sanitising
    std::unique_ptr<tls::SessionCache> cache;  // null: not enabled
};

class TlsmgrService {
public:
    // slots: smtpd first (its timeout governs the ticket keys).
    TlsmgrService(std::vector<CacheSlot>& slots, std::function<std::int64_t()> now)
        : slots_(slots), now_(std::move(now)) {}

    ipc::AttrList handle(const ipc::AttrList& request);

private:
    CacheSlot* find(std::string_view label);
    CacheSlot* slot_for(const ipc::AttrList& request, std::string_view what);
    int ticket_key(std::string& buffer);

    std::vector<CacheSlot>& slots_;
    std::function<std::int64_t()> now_;
    tls::TicketKeyRing keys_;
};

}  // namespace pf::tlsmgr
