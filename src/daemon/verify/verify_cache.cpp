// The verify(8) address cache (verify_cache.h).
#include "daemon/verify/verify_cache.h"

#include "util/msg.h"

#include <fmt/core.h>

#include <charconv>
#include <vector>

namespace pf::verify {

namespace {

// Non-empty all-digit text as a long; nullopt otherwise.
std::optional<long> digits(std::string_view s) {
    if (s.empty()) return std::nullopt;
    for (char c : s)
        if (c < '0' || c > '9') return std::nullopt;
    long v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

// Keys the reference's cache layer keeps for itself.
constexpr std::string_view kCacheMetaPrefix = "_LAST_CACHE_CLEANUP_COMPLETED_";

}  // namespace

std::string make_entry(const CacheEntry& e) {
    return fmt::format("{}:{}:{}:{}", e.status, e.probed, e.updated, e.text);
}

std::optional<CacheEntry> parse_entry(std::string_view raw) {
    auto bad = [&]() -> std::optional<CacheEntry> {
        util::msg_warn("bad address verify table entry: {:.100}", raw);
        return std::nullopt;
    };
    auto c1 = raw.find(':');
    if (c1 == std::string_view::npos) return bad();
    auto c2 = raw.find(':', c1 + 1);
    if (c2 == std::string_view::npos) return bad();
    auto c3 = raw.find(':', c2 + 1);
    if (c3 == std::string_view::npos) return bad();
    auto status = digits(raw.substr(0, c1));
    auto probed = digits(raw.substr(c1 + 1, c2 - c1 - 1));
    auto updated = digits(raw.substr(c2 + 1, c3 - c2 - 1));
    if (!status || !probed || !updated || *status > 3 || (*probed == 0 && *updated == 0)) return bad();
    return CacheEntry{static_cast<int>(*status), *probed, *updated, std::string(raw.substr(c3 + 1))};
}

VerifyCache::VerifyCache(dict::Dict& table, CacheTimes times, std::function<long()> now)
    : table_(table), times_(times), now_(std::move(now)) {}

std::string VerifyCache::cache_key(std::string_view address) {
    std::string key(address);
    for (char& c : key)
        if (c == ':') c = '_';
    return key;
}

bool VerifyCache::expired(const CacheEntry& e, long now) const {
    if (e.status == static_cast<int>(ipc::RecipientStatus::kOk)) return e.updated + times_.positive_expire < now;
    return e.updated + times_.negative_expire < now;
}

std::optional<std::string> VerifyCache::lookup(const std::string& key) {
    auto r = table_.lookup(key);
    if (r.is_found()) return r.value();
    if (r.is_error()) util::msg_warn("{}: lookup of {}: {}", table_.type_name(), key, r.error().text);
    return std::nullopt;
}

void VerifyCache::store(const std::string& key, const CacheEntry& e) {
    if (table_.update(key, make_entry(e)) != dict::ChangeStatus::done)
        util::msg_warn("{}: cannot update entry for {}: {}", table_.type_name(), key, table_.last_error().text);
}

QueryOutcome VerifyCache::query(std::string_view address) {
    const long now = now_();
    const std::string key = cache_key(address);
    auto raw = lookup(key);
    std::optional<CacheEntry> entry;
    if (raw) entry = parse_entry(*raw);
    if (!entry || (now - entry->probed > kProbeTtl && expired(*entry, now))) {
        entry = CacheEntry{static_cast<int>(ipc::RecipientStatus::kTodo), 0, 0, std::string(kInProgress)};
        if (raw && !times_.negative_cache) table_.remove(key);
    }
    if (util::msg_verbose)
        util::msg_info("GOT {} status={} probed={} updated={} text={}", key, entry->status, entry->probed,
                       entry->updated, entry->text);
    QueryOutcome out;
    out.answer.status = static_cast<ipc::RecipientStatus>(entry->status);
    out.answer.reason = entry->text;
    const bool ok = entry->status == static_cast<int>(ipc::RecipientStatus::kOk);
    const long refresh = ok ? times_.positive_refresh : times_.negative_refresh;
    if (now - entry->probed > kProbeTtl && entry->updated + refresh < now) {
        out.send_probe = true;
        if (entry->updated != 0 || times_.negative_cache) {
            CacheEntry put = *entry;
            put.probed = now;
            if (util::msg_verbose)
                util::msg_info("PUT {} status={} probed={} updated={} text={}", key, put.status, put.probed,
                               put.updated, put.text);
            store(key, put);
        }
    }
    return out;
}

bool VerifyCache::update(std::string_view address, int status, std::string_view text) {
    if (status < 0 || status > static_cast<int>(ipc::RecipientStatus::kBounce)) return false;
    const std::string key = cache_key(address);
    bool replace = status == static_cast<int>(ipc::RecipientStatus::kOk);
    if (!replace) {
        auto raw = lookup(key);
        // The reference looks at the leading number only (atoi).
        replace = !raw || digits(raw->substr(0, raw->find(':'))).value_or(0) !=
                              static_cast<long>(ipc::RecipientStatus::kOk);
    }
    if (replace) {
        CacheEntry e{status, 0, now_(), std::string(text)};
        if (util::msg_verbose)
            util::msg_info("PUT {} status={} probed={} updated={} text={}", key, e.status, e.probed, e.updated,
                           e.text);
        store(key, e);
    }
    return true;
}

std::pair<int, int> VerifyCache::cleanup() {
    const long now = now_();
    std::vector<std::string> drop;
    int retained = 0;
    for (auto e = table_.sequence(dict::SequenceStart::first); e; e = table_.sequence(dict::SequenceStart::next)) {
        if (e->key.starts_with(kCacheMetaPrefix)) continue;
        auto parsed = parse_entry(e->value);
        if (parsed && (now - parsed->probed < kProbeTtl || !expired(*parsed, now)))
            ++retained;
        else
            drop.push_back(e->key);
    }
    for (const auto& key : drop) table_.remove(key);
    return {retained, static_cast<int>(drop.size())};
}

}  // namespace pf::verify
