// The address verification cache of verify(8): one entry per address,
// "status:probed:updated:text" (the reference's format, so a cache file
// written by either implementation is read by the other), with the
// reference's rules:
//  - query: no entry, a malformed one, or an expired one (and no probe
//    sent in the last 1000 s) reads as "todo: Address verification in
//    progress"; an entry due for refresh (positive/negative refresh time)
//    with no probe in the last 1000 s asks for a new probe, and the entry
//    then records the probe time (a new "todo" entry only when negative
//    caching is on);
//  - update: a deliverable result always replaces the entry; a failed one
//    never clobbers a "deliverable" entry that is still cached;
//  - cleanup: drops entries that are malformed or expired and have no
//    probe in progress.
// Addresses are stored with ':' replaced by '_' (IPv6 literals), as the
// reference does.
//
// Trust: the table may hold anything; malformed entries are warned about
// ("bad address verify table entry") and treated as absent.
#pragma once

#include "dict/dict.h"
#include "ipc/verify_client.h"

#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pf::verify {

// Seconds after which an unanswered probe is taken as lost.
inline constexpr long kProbeTtl = 1000;

inline constexpr std::string_view kInProgress = "Address verification in progress";

struct CacheEntry {
    int status = 0;
    long probed = 0;
    long updated = 0;
    std::string text;
};

std::string make_entry(const CacheEntry& entry);
// nullopt (after the reference's warning) when the text is not a valid entry.
std::optional<CacheEntry> parse_entry(std::string_view raw);

struct CacheTimes {
    long positive_expire = 31 * 86400;
    long positive_refresh = 7 * 86400;
    long negative_expire = 3 * 86400;
    long negative_refresh = 3 * 3600;
    bool negative_cache = true;
};

struct QueryOutcome {
    ipc::VerifyAnswer answer;
    bool send_probe = false;
};

class VerifyCache {
public:
    // table: an open read-write table (not owned). now: the clock.
    VerifyCache(dict::Dict& table, CacheTimes times, std::function<long()> now);

    // The answer for address and whether a probe must go out now (the
    // entry already says so when this returns).
    QueryOutcome query(std::string_view address);
    // A delivery agent's result; false: the status is not a result.
    bool update(std::string_view address, int status, std::string_view text);
    // One cleanup pass: {retained, dropped}.
    std::pair<int, int> cleanup();

    static std::string cache_key(std::string_view address);

private:
    bool expired(const CacheEntry& e, long now) const;
    std::optional<std::string> lookup(const std::string& key);
    void store(const std::string& key, const CacheEntry& e);

    dict::Dict& table_;
    CacheTimes times_;
    std::function<long()> now_;
};

}  // namespace pf::verify
