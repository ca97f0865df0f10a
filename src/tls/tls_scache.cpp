// TLS session cache entries and ticket keys (see tls_scache.h).
//
// Trust: table values are checked for form and length before use.
#include "tls/tls_scache.h"

#include "dict/dict.h"
#include "util/msg.h"

#include <cstring>

namespace pf::tls {

namespace {

constexpr std::size_t kStampLen = 8;   // the entry's leading timestamp

std::int64_t get_stamp(std::string_view bin) {
    std::int64_t t = 0;
    std::memcpy(&t, bin.data(), kStampLen);   // native order, as written
    return t;
}

}  // namespace

std::string TicketKey::serialize() const {
    std::string out;
    out.reserve(kTicketKeyWireLen);
    out.append(reinterpret_cast<const char*>(name.data()), name.size());
    out.append(reinterpret_cast<const char*>(bits.data()), bits.size());
    out.append(reinterpret_cast<const char*>(hmac.data()), hmac.size());
    auto t = static_cast<std::uint64_t>(tout);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((t >> (8 * i)) & 0xff));
    return out;
}

std::optional<TicketKey> TicketKey::parse(std::string_view bytes) {
    if (bytes.size() != kTicketKeyWireLen) return std::nullopt;
    TicketKey k;
    const char* p = bytes.data();
    std::memcpy(k.name.data(), p, kTicketNameLen);
    p += kTicketNameLen;
    std::memcpy(k.bits.data(), p, kTicketKeyLen);
    p += kTicketKeyLen;
    std::memcpy(k.hmac.data(), p, kTicketMacLen);
    p += kTicketMacLen;
    std::uint64_t t = 0;
    for (int i = 0; i < 8; ++i) t |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    k.tout = static_cast<std::int64_t>(t);
    return k;
}

const TicketKey* TicketKeyRing::find(std::string_view name, std::int64_t now, int timeout) const {
    if (!name.empty()) {
        if (name.size() != kTicketNameLen) return nullptr;
        for (int i = 0; i < have_; ++i) {
            if (std::memcmp(name.data(), keys_[i].name.data(), kTicketNameLen) == 0)
                return keys_[i].tout + timeout > now ? &keys_[i] : nullptr;
        }
        return nullptr;
    }
    if (have_ > 0 && keys_[0].tout > now) return &keys_[0];
    return nullptr;
}

const TicketKey* TicketKeyRing::rotate(const TicketKey& key) {
    if (have_ > 0 && keys_[0].name == key.name) return &keys_[0];
    // The newest expiry goes first; the other stays as the previous key.
    if (have_ == 0) {
        keys_[0] = key;
        have_ = 1;
        return &keys_[0];
    }
    if (key.tout > keys_[0].tout) {
        keys_[1] = keys_[0];
        keys_[0] = key;
        have_ = 2;
        return &keys_[0];
    }
    keys_[1] = key;
    have_ = 2;
    return &keys_[1];
}

std::string SessionCache::encode(std::string_view session, std::int64_t now) {
    std::string bin(kStampLen, '\0');
    std::memcpy(bin.data(), &now, kStampLen);
    bin.append(session);
    return hex_encode(bin);
}

std::optional<std::string> SessionCache::decode(std::string_view id, std::string_view hex, std::int64_t now) const {
    if (hex.size() < 2 * kStampLen) {
        util::msg_warn("{} TLS cache: truncated entry for {}: {}", label_, id, hex.substr(0, 100));
        return std::nullopt;
    }
    auto bin = hex_decode(hex);
    if (!bin) {
        util::msg_warn("{} TLS cache: malformed entry for {}: {}", label_, id, hex.substr(0, 100));
        return std::nullopt;
    }
    std::int64_t stamp = get_stamp(*bin);
    if (verbose_)
        util::msg_info("read {} TLS cache entry {}: time={} [data {} bytes]", label_, id, stamp,
                       bin->size() - kStampLen);
    if (stamp + timeout_ < now) return std::nullopt;
    return bin->substr(kStampLen);
}

std::optional<std::string> SessionCache::lookup(std::string_view id, std::int64_t now) {
    if (verbose_) util::msg_info("lookup {} session id={}", label_, id);
    dict::LookupResult r = db_.lookup(id);
    if (!r.is_found()) return std::nullopt;
    auto session = decode(id, r.value(), now);
    if (!session) remove(id);
    return session;
}

bool SessionCache::update(std::string_view id, std::string_view session, std::int64_t now) {
    if (verbose_) util::msg_info("put {} session id={} [data {} bytes]", label_, id, session.size());
    std::string hex = encode(session, now);
    if (verbose_)
        util::msg_info("write {} TLS cache entry {}: time={} [data {} bytes]", label_, id, now, session.size());
    return db_.update(id, hex) == dict::ChangeStatus::done;
}

bool SessionCache::remove(std::string_view id) {
    if (verbose_) util::msg_info("delete {} session id={}", label_, id);
    if (have_cursor_ && saved_cursor_ == id) return true;
    return db_.remove(id) == dict::ChangeStatus::done;
}

bool SessionCache::scan_step(bool first, std::int64_t now) {
    auto e = db_.sequence(first ? dict::SequenceStart::first : dict::SequenceStart::next);
    bool keep = false;
    std::string member;
    if (e) {
        keep = decode(e->key, e->value, now).has_value();
        member = e->key;
    }
    // Delete behind: the entry the walk has just left, when it was stale
    // (a fresh update since then makes the lookup keep it).
    if (delete_cursor_) {
        delete_cursor_ = false;
        std::string old = std::move(saved_cursor_);
        have_cursor_ = false;
        (void)lookup(old, now);
    }
    have_cursor_ = false;
    saved_cursor_.clear();
    if (e) {
        saved_cursor_ = std::move(member);
        have_cursor_ = true;
        delete_cursor_ = !keep;
    }
    return e.has_value();
}

int SessionCache::scan(std::int64_t now) {
    int kept = 0;
    for (bool more = scan_step(true, now); more; more = scan_step(false, now))
        if (!delete_cursor_) ++kept;
    return kept;
}

}  // namespace pf::tls
