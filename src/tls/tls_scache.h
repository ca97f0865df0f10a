// The TLS session cache as tlsmgr(8) keeps it, and the RFC 5077 session
// ticket keys, as the reference has them:
//  - a cache entry is the hex encoding (upper case) of an 8-byte native
//    timestamp (when it was saved) followed by the session bytes
//    (i2d_SSL_SESSION), stored under the cache ID in a table opened with
//    O_TRUNC at start-up ($*_tls_session_cache_database); entries older
//    than the cache timeout are never returned and are deleted when seen;
//  - with the cache's loglevel including "cache" (2 or more) the reference's
//    trace lines: "open smtpd TLS cache btree:/...", "lookup smtpd session
//    id=...", "put smtpd session id=... [data N bytes]", "write/read smtpd
//    TLS cache entry ...: time=... [data N bytes]", "delete smtpd session
//    id=...";
//  - the expiry scan walks the table and deletes each expired or malformed
//    entry after the walk has moved past it (delete-behind, because some
//    table types lose their place when the current entry goes);
//  - ticket keys: 16-byte name, 32-byte AES key, 32-byte HMAC key and an
//    expiry time; a process keeps the current key and the one before it
//    (decryption still works for one more timeout after a key stops being
//    used to issue tickets).
//
// Trust: table content was written by tlsmgr, but a damaged or planted
// entry is treated as malformed (dropped), never trusted for its length.
#pragma once

#include "util/hex.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pf::dict { class Dict; }

namespace pf::tls {

inline constexpr std::size_t kTicketNameLen = 16;
inline constexpr std::size_t kTicketIvLen = 16;
inline constexpr std::size_t kTicketKeyLen = 32;
inline constexpr std::size_t kTicketMacLen = 32;
// The smallest cache timeout tlsmgr uses (a shorter configured one is raised).
inline constexpr int kSessionLifeMin = 120;

struct TicketKey {
    std::array<unsigned char, kTicketNameLen> name{};
    std::array<unsigned char, kTicketKeyLen> bits{};
    std::array<unsigned char, kTicketMacLen> hmac{};
    std::int64_t tout = 0;   // issue tickets until then

    // Fixed-size wire form (name, bits, hmac, 8-byte little-endian tout).
    std::string serialize() const;
    static std::optional<TicketKey> parse(std::string_view bytes);
};
inline constexpr std::size_t kTicketKeyWireLen = kTicketNameLen + kTicketKeyLen + kTicketMacLen + 8;

// The process's current and previous ticket keys.
class TicketKeyRing {
public:
    // name empty: the key to issue tickets with (current and unexpired);
    // else the key with that name, still good for decryption (until its
    // tout plus timeout). nullptr: none.
    const TicketKey* find(std::string_view name, std::int64_t now, int timeout) const;
    // Makes key the current one (the old current becomes the previous)
    // unless it is the current one already; returns the stored copy.
    const TicketKey* rotate(const TicketKey& key);
    void clear() { have_ = 0; }

private:
    TicketKey keys_[2];
    int have_ = 0;
};

// Upper-case hex and its inverse (nullopt on an odd length or a non-hex
// character): util/hex.h.
using util::hex_decode;
using util::hex_encode;

// One cache ("smtpd", "smtp" or "lmtp") on an open table.
class SessionCache {
public:
    SessionCache(dict::Dict& db, std::string label, bool verbose, int timeout)
        : db_(db), label_(std::move(label)), verbose_(verbose), timeout_(timeout) {}

    const std::string& label() const { return label_; }
    int timeout() const { return timeout_; }
    bool verbose() const { return verbose_; }

    // The session bytes saved under id and still fresh; an expired or
    // malformed entry is deleted.
    std::optional<std::string> lookup(std::string_view id, std::int64_t now);
    bool update(std::string_view id, std::string_view session, std::int64_t now);
    // true when gone (or protected as the scan's current entry).
    bool remove(std::string_view id);
    // One step of the expiry scan; false when the walk is over.
    bool scan_step(bool first, std::int64_t now);
    // A whole scan; the number of entries kept.
    int scan(std::int64_t now);

    // The entry format (exposed for tests).
    static std::string encode(std::string_view session, std::int64_t now);

private:
    // The session bytes of a fresh, well-formed entry.
    std::optional<std::string> decode(std::string_view id, std::string_view hex, std::int64_t now) const;

    dict::Dict& db_;
    std::string label_;
    bool verbose_;
    int timeout_;
    std::string saved_cursor_;
    bool have_cursor_ = false;
    bool delete_cursor_ = false;
};

}  // namespace pf::tls
