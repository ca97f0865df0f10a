// Unit tests of tlsmgr's request handling (daemon/tlsmgr/tlsmgr_service):
// policy answers per cache type, update/lookup/delete with the status
// codes, bogus types and malformed requests, session ticket keys (made,
// found by name, refused with a zero timeout or a bad name length, a new
// one once the old stops issuing), and seed sizes; plus the PRNG exchange
// file's read-stir-write.
#include "daemon/tlsmgr/tlsmgr_prng.h"
#include "daemon/tlsmgr/tlsmgr_service.h"

#include "dict/dict.h"
#include "dict/dict_registry.h"
#include "tls/tls_mgr_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace pf;

struct Fixture : ::testing::Test {
    dict::DictPtr table;
    std::vector<tlsmgr::CacheSlot> slots;
    std::int64_t clock = 1000000;
    std::unique_ptr<tlsmgr::TlsmgrService> service;

    void SetUp() override {
        dict::register_builtin_types();
        auto t = dict::open("internal:tlsmgr-test", O_CREAT | O_RDWR, dict::kDupReplace);
        ASSERT_TRUE(t.has_value());
        table = std::move(*t);
        tlsmgr::CacheSlot smtpd;
        smtpd.label = "smtpd";
        smtpd.timeout = 3600;
        smtpd.cache = std::make_unique<tls::SessionCache>(*table, "smtpd", false, 3600);
        slots.push_back(std::move(smtpd));
        tlsmgr::CacheSlot smtp;
        smtp.label = "smtp";
        smtp.timeout = 600;
        slots.push_back(std::move(smtp));
        tlsmgr::CacheSlot lmtp;
        lmtp.label = "lmtp";
        slots.push_back(std::move(lmtp));
        service = std::make_unique<tlsmgr::TlsmgrService>(slots, [this] { return clock; });
    }

    ipc::AttrList ask(ipc::AttrList req) { return service->handle(req); }
};

using TlsmgrService = Fixture;

TEST_F(TlsmgrService, Policy) {
    auto r = ask({{"request", "policy"}, {"cache_type", "smtpd"}});
    EXPECT_EQ(r.get_number("status"), 0);
    EXPECT_EQ(r.get_number("cachable"), 1);
    EXPECT_EQ(r.get_number("timeout"), 3600);
    r = ask({{"request", "policy"}, {"cache_type", "smtp"}});
    EXPECT_EQ(r.get_number("cachable"), 0);
    EXPECT_EQ(r.get_number("timeout"), 600);
    r = ask({{"request", "policy"}, {"cache_type", "bogus"}});
    EXPECT_EQ(r.get_number("status"), -2);
    EXPECT_EQ(r.get_number("cachable"), 0);
    r = ask({{"request", "policy"}});
    EXPECT_EQ(r.get_number("status"), -2);
}

TEST_F(TlsmgrService, UpdateLookupDelete) {
    std::string session("\x30\x82\x00\x01", 4);
    auto r = ask({{"request", "update"}, {"cache_type", "smtpd"}, {"cache_id", "AB&s=smtp&l=1"}, {"session", session}});
    EXPECT_EQ(r.get_number("status"), 0);
    r = ask({{"request", "lookup"}, {"cache_type", "smtpd"}, {"cache_id", "AB&s=smtp&l=1"}});
    EXPECT_EQ(r.get_number("status"), 0);
    EXPECT_EQ(r.get_or("session", ""), session);
    // Expired after the timeout.
    clock += 3601;
    r = ask({{"request", "lookup"}, {"cache_type", "smtpd"}, {"cache_id", "AB&s=smtp&l=1"}});
    EXPECT_EQ(r.get_number("status"), -1);
    EXPECT_EQ(r.get_or("session", "x"), "");
    r = ask({{"request", "update"}, {"cache_type", "smtpd"}, {"cache_id", "K"}, {"session", "s"}});
    r = ask({{"request", "delete"}, {"cache_type", "smtpd"}, {"cache_id", "K"}});
    EXPECT_EQ(r.get_number("status"), 0);
    r = ask({{"request", "lookup"}, {"cache_type", "smtpd"}, {"cache_id", "K"}});
    EXPECT_EQ(r.get_number("status"), -1);
    // A cache that is not enabled, a bogus one, a malformed request.
    r = ask({{"request", "lookup"}, {"cache_type", "smtp"}, {"cache_id", "K"}});
    EXPECT_EQ(r.get_number("status"), -2);
    r = ask({{"request", "update"}, {"cache_type", "nope"}, {"cache_id", "K"}, {"session", "s"}});
    EXPECT_EQ(r.get_number("status"), -2);
    r = ask({{"request", "update"}, {"cache_type", "smtpd"}, {"cache_id", "K"}});
    EXPECT_EQ(r.get_number("status"), -2);
    r = ask({{"request", "frobnicate"}});
    EXPECT_EQ(r.get_number("status"), -2);
}

TEST_F(TlsmgrService, TicketKeys) {
    auto r = ask({{"request", "tktkey"}, {"keyname", ""}});
    ASSERT_EQ(r.get_number("status"), 0);
    auto key = tls::TicketKey::parse(r.get_or("keybuf", ""));
    ASSERT_TRUE(key.has_value());
    // Issues for half the timeout (minus one second).
    EXPECT_EQ(key->tout, clock + 1800 - 1);
    std::string name(reinterpret_cast<const char*>(key->name.data()), key->name.size());
    // The same key by name, and as the current one.
    r = ask({{"request", "tktkey"}, {"keyname", name}});
    EXPECT_EQ(r.get_number("status"), 0);
    EXPECT_EQ(tls::TicketKey::parse(r.get_or("keybuf", ""))->name, key->name);
    r = ask({{"request", "tktkey"}, {"keyname", ""}});
    EXPECT_EQ(tls::TicketKey::parse(r.get_or("keybuf", ""))->name, key->name);
    // Unknown name; bad length.
    r = ask({{"request", "tktkey"}, {"keyname", std::string(16, 'x')}});
    EXPECT_EQ(r.get_number("status"), -1);
    r = ask({{"request", "tktkey"}, {"keyname", "short"}});
    EXPECT_EQ(r.get_number("status"), -2);
    // Once it stops issuing, a new key; the old one still decrypts.
    clock += 1800;
    r = ask({{"request", "tktkey"}, {"keyname", ""}});
    auto next = tls::TicketKey::parse(r.get_or("keybuf", ""));
    ASSERT_TRUE(next.has_value());
    EXPECT_NE(next->name, key->name);
    r = ask({{"request", "tktkey"}, {"keyname", name}});
    EXPECT_EQ(r.get_number("status"), 0);
    clock += 1800;
    r = ask({{"request", "tktkey"}, {"keyname", name}});
    EXPECT_EQ(r.get_number("status"), -1);
    // A zero smtpd timeout: no keys.
    slots.front().timeout = 0;
    r = ask({{"request", "tktkey"}, {"keyname", ""}});
    EXPECT_EQ(r.get_number("status"), -1);
}

TEST_F(TlsmgrService, Seed) {
    auto r = ask({{"request", "seed"}, {"size", "32"}});
    EXPECT_EQ(r.get_number("status"), 0);
    EXPECT_EQ(r.get_or("seed", "").size(), 32u);
    r = ask({{"request", "seed"}, {"size", "0"}});
    EXPECT_EQ(r.get_number("status"), -2);
    r = ask({{"request", "seed"}, {"size", "256"}});
    EXPECT_EQ(r.get_number("status"), -2);
    r = ask({{"request", "seed"}});
    EXPECT_EQ(r.get_number("status"), -2);
}

TEST(TlsmgrPrng, ExchangeFileReadStirWrite) {
    char path[] = "/tmp/tlsmgr-prng-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    {
        auto exch = tlsmgr::PrngExchange::open(path);
        ASSERT_TRUE(exch.is_open());
        exch.update();
        struct stat st {};
        ASSERT_EQ(::stat(path, &st), 0);
        EXPECT_EQ(static_cast<std::size_t>(st.st_size), tlsmgr::kPrngExchSize);
        EXPECT_FALSE(exch.removed());
        ::unlink(path);
        EXPECT_TRUE(exch.removed());
    }
}

TEST(TlsmgrPrng, FileSourceIsReadOnce) {
    auto src = tlsmgr::EntropySource::open("/dev/null", 1);
    EXPECT_TRUE(src.configured());
    EXPECT_TRUE(src.reseed(32));   // warns (no bytes), never asks for a restart
    EXPECT_FALSE(src.configured());
    auto dev = tlsmgr::EntropySource::open("dev:/dev/urandom", 1);
    EXPECT_TRUE(dev.reseed(32));
}

}  // namespace
