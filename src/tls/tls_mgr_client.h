// Client side of tlsmgr(8) (private/tlsmgr), as smtpd and smtp/lmtp use
// it. The requests and reply attributes carry the reference's names:
//   {request=seed, size=N}                       → {status, seed=<bytes>}
//   {request=policy, cache_type=T}               → {status, cachable=0|1, timeout=S}
//   {request=lookup, cache_type=T, cache_id=I}   → {status, session=<bytes>}
//   {request=update, cache_type=T, cache_id=I, session=<bytes>} → {status}
//   {request=delete, cache_type=T, cache_id=I}   → {status}
//   {request=tktkey, keyname=<16 bytes or empty>} → {status, keybuf=<key>}
// status is 0 (done), -1 (not found / not available) or -2 (protocol or
// service failure). One connection per process, opened on first use
// (relative to the working directory, which is queue_directory in every
// daemon) and reopened once when a request fails on it.
//
// The ticket keys a process got are kept (current and previous) so that
// tlsmgr is asked only when a new key is due or a ticket names an unknown
// key (see tls_scache.h).
//
// Trust: tlsmgr is ours; its replies are still checked for form.
#pragma once

#include "tls/tls_scache.h"

#include <optional>
#include <string>
#include <string_view>

namespace pf::tls {

enum MgrStatus : int { kMgrOk = 0, kMgrErr = -1, kMgrFail = -2 };

inline constexpr std::string_view kCacheSmtpd = "smtpd";
inline constexpr std::string_view kCacheSmtp = "smtp";
inline constexpr std::string_view kCacheLmtp = "lmtp";

// The socket path (default "private/tlsmgr", relative to the working
// directory); tests point it elsewhere. Closes any open connection and
// ends the in-memory mode below.
void mgr_set_endpoint(std::string path);

// A cache in this process's memory instead of tlsmgr, for a program that
// runs without the mail system (posttls-finger, as the reference's
// tlsmgrmem): once switched on, every request below is answered here
// (seed: nothing to add; policy: cachable when enabled, one hour; lookup,
// update, delete on the in-memory table). The status counts the entries
// saved (minus deletions) and the successful lookups.
void mgr_use_memory_cache(bool enabled);
struct MemoryCacheStatus {
    bool enabled = false;
    int count = 0;
    int hits = 0;
};
MemoryCacheStatus mgr_memory_cache_status();

int mgr_seed(int len, std::string& out);
int mgr_policy(std::string_view cache_type, bool& cachable, int& timeout);
int mgr_lookup(std::string_view cache_type, std::string_view cache_id, std::string& session);
int mgr_update(std::string_view cache_type, std::string_view cache_id, std::string_view session);
int mgr_delete(std::string_view cache_type, std::string_view cache_id);

// The key to issue a ticket with (name empty) or to decrypt one with the
// given 16-byte name; nullptr when tickets are off (timeout <= 0), the key
// is unknown or expired, or tlsmgr cannot be reached.
const TicketKey* mgr_ticket_key(std::string_view name, int timeout);

}  // namespace pf::tls
