// Unit tests of tls/tls_scache: the hex codec, the ticket key wire form
// and key ring (current/previous, expiry), the session cache entries
// (fresh, expired, malformed) and the delete-behind expiry scan; and the
// client cache ID's form (tls/tls_session.h).
#include "tls/tls_scache.h"
#include "tls/tls_session.h"

#include "dict/dict.h"
#include "dict/dict_registry.h"

#include <fcntl.h>
#include <gtest/gtest.h>

namespace {

using namespace pf;

dict::DictPtr memory_table(const char* name) {
    dict::register_builtin_types();
    auto t = dict::open(std::string("internal:") + name, O_CREAT | O_RDWR, dict::kDupReplace);
    EXPECT_TRUE(t.has_value());
    return std::move(*t);
}

tls::TicketKey make_key(unsigned char fill, std::int64_t tout) {
    tls::TicketKey k;
    k.name.fill(fill);
    k.bits.fill(static_cast<unsigned char>(fill + 1));
    k.hmac.fill(static_cast<unsigned char>(fill + 2));
    k.tout = tout;
    return k;
}

TEST(TlsScache, HexRoundTrip) {
    std::string bin("\x00\x01\xab\xff", 4);
    EXPECT_EQ(tls::hex_encode(bin), "0001ABFF");
    EXPECT_EQ(tls::hex_decode("0001abFF"), bin);
    EXPECT_FALSE(tls::hex_decode("ABC").has_value());
    EXPECT_FALSE(tls::hex_decode("0G").has_value());
    EXPECT_FALSE(tls::hex_decode("0:").has_value());
}

TEST(TlsScache, TicketKeyWireForm) {
    tls::TicketKey k = make_key(7, 1234567890123LL);
    std::string wire = k.serialize();
    ASSERT_EQ(wire.size(), tls::kTicketKeyWireLen);
    auto back = tls::TicketKey::parse(wire);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->name, k.name);
    EXPECT_EQ(back->bits, k.bits);
    EXPECT_EQ(back->hmac, k.hmac);
    EXPECT_EQ(back->tout, k.tout);
    EXPECT_FALSE(tls::TicketKey::parse(wire.substr(1)).has_value());
}

TEST(TlsScache, KeyRingCurrentAndPrevious) {
    tls::TicketKeyRing ring;
    EXPECT_EQ(ring.find("", 100, 50), nullptr);
    ring.rotate(make_key(1, 200));
    const tls::TicketKey* cur = ring.find("", 100, 50);
    ASSERT_NE(cur, nullptr);
    EXPECT_EQ(cur->name[0], 1);
    // Issuing stops at tout; decrypting goes on for one more timeout.
    EXPECT_EQ(ring.find("", 200, 50), nullptr);
    std::string name1(16, '\x01');
    EXPECT_NE(ring.find(name1, 249, 50), nullptr);
    EXPECT_EQ(ring.find(name1, 250, 50), nullptr);
    // A newer key becomes current; the old one still decrypts.
    ring.rotate(make_key(2, 300));
    EXPECT_EQ(ring.find("", 210, 50)->name[0], 2);
    EXPECT_NE(ring.find(name1, 210, 50), nullptr);
    // A third key pushes the first out.
    ring.rotate(make_key(3, 400));
    EXPECT_EQ(ring.find(name1, 210, 500), nullptr);
    EXPECT_NE(ring.find(std::string(16, '\x02'), 210, 500), nullptr);
    // Bad name lengths never match.
    EXPECT_EQ(ring.find("short", 210, 500), nullptr);
    // The same key again changes nothing.
    ring.rotate(make_key(3, 400));
    EXPECT_NE(ring.find(std::string(16, '\x02'), 210, 500), nullptr);
}

TEST(TlsScache, EntryFormat) {
    std::string hex = tls::SessionCache::encode("ab", 0x0102030405060708LL);
    // 8-byte native (little-endian here) timestamp, then the bytes.
    EXPECT_EQ(hex, "08070605040302016162");
}

TEST(TlsScache, LookupFreshExpiredMalformed) {
    auto t = memory_table("scache-lookup");
    tls::SessionCache cache(*t, "smtpd", false, 3600);
    ASSERT_TRUE(cache.update("id1", std::string("\x01\x02", 2), 1000));
    auto got = cache.lookup("id1", 1000 + 3600);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, std::string("\x01\x02", 2));
    // Expired: not returned, and gone.
    EXPECT_FALSE(cache.lookup("id1", 1000 + 3601).has_value());
    EXPECT_TRUE(t->lookup("id1").is_not_found());
    // Malformed and truncated entries are dropped.
    t->update("bad", "ZZZZZZZZZZZZZZZZZZ");
    EXPECT_FALSE(cache.lookup("bad", 1000).has_value());
    EXPECT_TRUE(t->lookup("bad").is_not_found());
    t->update("short", "0102");
    EXPECT_FALSE(cache.lookup("short", 1000).has_value());
    EXPECT_TRUE(t->lookup("short").is_not_found());
    EXPECT_FALSE(cache.lookup("missing", 1000).has_value());
    EXPECT_TRUE(cache.remove("id2") == false);
}

TEST(TlsScache, ScanDeletesBehind) {
    auto t = memory_table("scache-scan");
    tls::SessionCache cache(*t, "smtp", false, 100);
    cache.update("a", "old", 0);
    cache.update("b", "new", 500);
    cache.update("c", "old", 1);
    cache.update("d", "new", 550);
    t->update("e", "nothex!!nothex!!nothex");
    EXPECT_EQ(cache.scan(560), 2);
    EXPECT_TRUE(t->lookup("a").is_not_found());
    EXPECT_TRUE(t->lookup("b").is_found());
    EXPECT_TRUE(t->lookup("c").is_not_found());
    EXPECT_TRUE(t->lookup("d").is_found());
    EXPECT_TRUE(t->lookup("e").is_not_found());
}

TEST(TlsScache, ClientCacheIdForm) {
    std::string id = tls::client_cache_id("smtp&[127.0.0.1]:25&localhost&127.0.0.1&", "mx.example", "!SSLv2, !SSLv3",
                                          "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH");
    const std::string prefix = "smtp&[127.0.0.1]:25&localhost&127.0.0.1&&";
    ASSERT_EQ(id.size(), prefix.size() + 64);
    EXPECT_EQ(id.substr(0, prefix.size()), prefix);
    EXPECT_EQ(id.find_first_not_of("0123456789ABCDEF", prefix.size()), std::string::npos);
    // Each salt changes the key.
    EXPECT_NE(id, tls::client_cache_id("smtp&[127.0.0.1]:25&localhost&127.0.0.1&", "mx2.example", "!SSLv2, !SSLv3",
                                       "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"));
    EXPECT_NE(id, tls::client_cache_id("smtp&[127.0.0.1]:25&localhost&127.0.0.1&", "mx.example", "TLSv1.3",
                                       "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"));
    EXPECT_NE(id, tls::client_cache_id("smtp&[127.0.0.1]:25&localhost&127.0.0.1&", "mx.example", "!SSLv2, !SSLv3",
                                       "HIGH"));
}

}  // namespace
