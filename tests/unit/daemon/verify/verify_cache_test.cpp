// Unit tests of verify(8)'s cache and request handling: the entry format,
// expiry, refresh and probe timing, the "failed probe does not clobber a
// good entry" rule and cleanup, on an in-memory table with a fake clock.
#include "daemon/verify/verify_cache.h"
#include "daemon/verify/verify_probe.h"
#include "daemon/verify/verify_service.h"
#include "dict/dict_registry.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace pf::verify {
namespace {

using ipc::RecipientStatus;

class VerifyCacheTest : public ::testing::Test {
protected:
    VerifyCacheTest() {
        dict::register_builtin_types();
        auto t = dict::open("internal:verify-test", O_CREAT | O_RDWR, dict::kDupReplace);
        if (!t) throw std::runtime_error(t.error().text);
        table_ = std::move(*t);
        cache_ = std::make_unique<VerifyCache>(*table_, times_, [this] { return now_; });
    }
    std::string raw(const std::string& key) {
        auto r = table_->lookup(key);
        return r.is_found() ? r.value() : std::string("<none>");
    }
    long now_ = 1'700'000'000;
    CacheTimes times_;
    dict::DictPtr table_;
    std::unique_ptr<VerifyCache> cache_;
};

TEST_F(VerifyCacheTest, EntryFormatRoundTrip) {
    CacheEntry e{2, 0, 1234, "host said: 550 5.1.1 unknown: user"};
    EXPECT_EQ(make_entry(e), "2:0:1234:host said: 550 5.1.1 unknown: user");
    auto p = parse_entry(make_entry(e));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->status, 2);
    EXPECT_EQ(p->updated, 1234);
    EXPECT_EQ(p->text, "host said: 550 5.1.1 unknown: user");
    EXPECT_FALSE(parse_entry("0:0:0:x"));      // no time stamp at all
    EXPECT_FALSE(parse_entry("4:1:1:x"));      // unknown status
    EXPECT_FALSE(parse_entry("0:1:1"));        // no text field
    EXPECT_FALSE(parse_entry("a:1:1:x"));
    EXPECT_FALSE(parse_entry(""));
    EXPECT_TRUE(parse_entry("3:5:0:"));
}

TEST_F(VerifyCacheTest, UnknownAddressIsProbedOnceWhileInProgress) {
    auto q = cache_->query("u@example.com");
    EXPECT_EQ(q.answer.status, RecipientStatus::kTodo);
    EXPECT_EQ(q.answer.reason, "Address verification in progress");
    EXPECT_TRUE(q.send_probe);
    EXPECT_EQ(raw("u@example.com"), "3:1700000000:0:Address verification in progress");
    now_ += 10;
    q = cache_->query("u@example.com");
    EXPECT_EQ(q.answer.status, RecipientStatus::kTodo);
    EXPECT_FALSE(q.send_probe);
    // A lost probe (no answer within 1000 s) is sent again.
    now_ += kProbeTtl;
    EXPECT_TRUE(cache_->query("u@example.com").send_probe);
}

TEST_F(VerifyCacheTest, UpdatesAnswerQueries) {
    (void)cache_->query("good@example.com");
    now_ += 5;
    EXPECT_TRUE(cache_->update("good@example.com", 0, "delivers to command: cat"));
    EXPECT_EQ(raw("good@example.com"), "0:0:1700000005:delivers to command: cat");
    auto q = cache_->query("good@example.com");
    EXPECT_EQ(q.answer.status, RecipientStatus::kOk);
    EXPECT_EQ(q.answer.reason, "delivers to command: cat");
    EXPECT_FALSE(q.send_probe);

    EXPECT_TRUE(cache_->update("bad@example.com", 2, "unknown user: \"bad\""));
    q = cache_->query("bad@example.com");
    EXPECT_EQ(q.answer.status, RecipientStatus::kBounce);
    EXPECT_EQ(q.answer.reason, "unknown user: \"bad\"");
    EXPECT_FALSE(cache_->update("x@example.com", 3, "todo is not a result"));
    EXPECT_FALSE(cache_->update("x@example.com", -1, "nor is this"));
}

TEST_F(VerifyCacheTest, FailedProbeDoesNotClobberGoodEntry) {
    cache_->update("u@example.com", 0, "ok");
    now_ += 100;
    cache_->update("u@example.com", 1, "connection timed out");
    EXPECT_EQ(raw("u@example.com"), "0:0:1700000000:ok");
    cache_->update("v@example.com", 1, "connection timed out");
    cache_->update("v@example.com", 2, "unknown user");
    EXPECT_EQ(raw("v@example.com"), "2:0:1700000100:unknown user");
}

TEST_F(VerifyCacheTest, RefreshKeepsAnswerAndExpiryForgetsIt) {
    cache_->update("u@example.com", 0, "ok");
    now_ += times_.positive_refresh + 1;
    auto q = cache_->query("u@example.com");
    EXPECT_EQ(q.answer.status, RecipientStatus::kOk);
    EXPECT_TRUE(q.send_probe);
    EXPECT_EQ(raw("u@example.com"), fmt::format("0:{}:1700000000:ok", now_));
    now_ = 1'700'000'000 + times_.positive_expire + 1;
    q = cache_->query("u@example.com");
    EXPECT_EQ(q.answer.status, RecipientStatus::kTodo);
    EXPECT_TRUE(q.send_probe);

    cache_->update("n@example.com", 2, "no");
    now_ += times_.negative_refresh + 1;
    q = cache_->query("n@example.com");
    EXPECT_EQ(q.answer.status, RecipientStatus::kBounce);
    EXPECT_TRUE(q.send_probe);
}

TEST_F(VerifyCacheTest, WithoutNegativeCachingNothingIsRememberedUntilAnswered) {
    times_.negative_cache = false;
    cache_ = std::make_unique<VerifyCache>(*table_, times_, [this] { return now_; });
    auto q = cache_->query("u@example.com");
    EXPECT_TRUE(q.send_probe);
    EXPECT_EQ(raw("u@example.com"), "<none>");
}

TEST_F(VerifyCacheTest, ColonsInAddressesAreStoredAsUnderscores) {
    cache_->update("u@[ipv6:2001:db8::1]", 0, "ok");
    EXPECT_EQ(raw("u@[ipv6_2001_db8__1]"), "0:0:1700000000:ok");
    EXPECT_EQ(cache_->query("u@[ipv6:2001:db8::1]").answer.status, RecipientStatus::kOk);
}

TEST_F(VerifyCacheTest, MalformedEntryReadsAsUnknown) {
    table_->update("u@example.com", "garbage");
    auto q = cache_->query("u@example.com");
    EXPECT_EQ(q.answer.status, RecipientStatus::kTodo);
    EXPECT_TRUE(q.send_probe);
}

TEST_F(VerifyCacheTest, CleanupDropsExpiredEntries) {
    cache_->update("old@example.com", 2, "no");
    cache_->update("good@example.com", 0, "ok");
    table_->update("junk@example.com", "junk");
    now_ += times_.negative_expire + 1;
    auto [retained, dropped] = cache_->cleanup();
    EXPECT_EQ(retained, 1);
    EXPECT_EQ(dropped, 2);
    EXPECT_EQ(raw("old@example.com"), "<none>");
    EXPECT_EQ(raw("good@example.com"), "0:0:1700000000:ok");
}

TEST_F(VerifyCacheTest, ServiceRequests) {
    std::vector<std::string> probes;
    VerifyService svc(*cache_, [&](std::string_view a) { probes.emplace_back(a); });
    auto r = svc.handle({{"request", "query"}, {"address", "u@example.com"}});
    EXPECT_EQ(r.get_number("status"), 0);
    EXPECT_EQ(r.get_number("addr_status"), 3);
    EXPECT_EQ(r.get_or("reason", ""), "Address verification in progress");
    ASSERT_EQ(probes.size(), 1u);
    EXPECT_EQ(probes[0], "u@example.com");
    r = svc.handle({{"request", "update"}, {"address", "u@example.com"}, {"addr_status", "2"}, {"reason", "nope"}});
    EXPECT_EQ(r.get_number("status"), 0);
    r = svc.handle({{"request", "query"}, {"address", "u@example.com"}});
    EXPECT_EQ(r.get_number("addr_status"), 2);
    EXPECT_EQ(r.get_or("reason", ""), "nope");
    EXPECT_EQ(probes.size(), 1u);
    r = svc.handle({{"request", "update"}, {"address", "u@example.com"}, {"addr_status", "7"}, {"reason", "x"}});
    EXPECT_EQ(r.get_number("status"), -2);
    r = svc.handle({{"request", "frobnicate"}});
    EXPECT_EQ(r.get_number("status"), -2);
}

TEST(VerifyProbeTest, Sender) {
    EXPECT_EQ(probe_sender("double-bounce", 0, 1000), "double-bounce");
    EXPECT_EQ(probe_sender("", 0, 1000), "");
    EXPECT_EQ(probe_sender("<>", 0, 1000), "");
    EXPECT_EQ(probe_sender("postmaster@example.com", 0, 1000), "postmaster@example.com");
    // 31 periods of 100 s: "10" in base 31.
    EXPECT_EQ(probe_sender("probe@example.com", 100, 3100), "probe10@example.com");
    EXPECT_EQ(probe_sender("probe", 100, 3000), "probeZ");
    EXPECT_EQ(probe_sender("probe", 100, 1000), "probeB");
    EXPECT_THROW(probe_sender("@example.com", 0, 0), std::runtime_error);
    EXPECT_THROW(probe_sender("probe@", 0, 0), std::runtime_error);
}

}  // namespace
}  // namespace pf::verify
