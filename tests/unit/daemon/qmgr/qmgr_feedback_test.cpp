// Unit tests: concurrency feedback settings and per-destination windows.
#include "daemon/qmgr/qmgr_feedback.h"
#include "daemon/qmgr/qmgr_queue.h"
#include "daemon/qmgr/qmgr_settings.h"

#include "qmgr_test_util.h"

#include <map>

namespace pf::qmgr {
namespace {

TEST(QmgrFeedback, Numbers) {
    test::LogCapture log;
    auto one = parse_feedback("1", "x");
    EXPECT_DOUBLE_EQ(one.base, 1);
    EXPECT_FALSE(one.per_window);
    auto ratio = parse_feedback("1/8", "x");
    EXPECT_DOUBLE_EQ(ratio.base, 0.125);
    auto half = parse_feedback(" 0.5 ", "x");
    EXPECT_DOUBLE_EQ(half.base, 0.5);
    auto conc = parse_feedback("1/concurrency", "x");
    EXPECT_TRUE(conc.per_window);
    EXPECT_DOUBLE_EQ(conc.value(4), 0.25);
    auto spaced = parse_feedback("1 / 4", "x");
    EXPECT_DOUBLE_EQ(spaced.base, 0.25);
    EXPECT_TRUE(log.lines.empty()) << log.all();
}

TEST(QmgrFeedback, BadValuesWarnAndUseOne) {
    test::LogCapture log;
    for (const char* bad : {"2", "abc", "1/0", "1/x", "-1", "1/4 junk"}) {
        auto fb = parse_feedback(bad, "smtp_destination_concurrency_positive_feedback");
        EXPECT_DOUBLE_EQ(fb.base, 1) << bad;
        EXPECT_FALSE(fb.per_window) << bad;
    }
    ASSERT_EQ(log.lines.size(), 6u);
    EXPECT_EQ(log.lines[0],
              "warning: smtp_destination_concurrency_positive_feedback: ignoring malformed or unreasonable feedback: 2");
}

ParamLookup map_lookup(std::map<std::string, std::string, std::less<>> values) {
    return [values](std::string_view name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

TEST(QmgrSettings, TransportOverrides) {
    auto lookup = map_lookup({{"default_destination_concurrency_limit", "10"},
                              {"smtp_destination_concurrency_limit", "3"},
                              {"local_destination_recipient_limit", "1"},
                              {"slow_destination_rate_delay", "5s"},
                              {"initial_destination_concurrency", "5"}});
    auto settings = QmgrSettings::from_lookup(lookup);
    EXPECT_EQ(settings.dest_concurrency_limit, 10);
    auto smtp = TransportLimits::for_transport("smtp", lookup, settings);
    EXPECT_EQ(smtp.dest_concurrency_limit, 3);
    EXPECT_EQ(smtp.initial_concurrency, 3);  // never above the limit
    EXPECT_EQ(smtp.recipient_limit, 50);
    auto local = TransportLimits::for_transport("local", lookup, settings);
    EXPECT_EQ(local.recipient_limit, 1);
    EXPECT_EQ(local.dest_concurrency_limit, 10);
    auto slow = TransportLimits::for_transport("slow", lookup, settings);
    EXPECT_EQ(slow.rate_delay, 5);
    EXPECT_EQ(slow.dest_concurrency_limit, 1);
}

TEST(QmgrSettings, BounceLifetimeAdjusted) {
    test::LogCapture log;
    auto settings = QmgrSettings::from_lookup(
        map_lookup({{"maximal_queue_lifetime", "1d"}, {"bounce_queue_lifetime", "2d"}, {"queue_run_delay", "10s"}}));
    EXPECT_EQ(settings.max_queue_lifetime, 86400);
    EXPECT_EQ(settings.bounce_queue_lifetime, 86400);
    EXPECT_EQ(settings.queue_run_delay, 10);
    EXPECT_TRUE(log.has("warning: bounce_queue_lifetime is larger than maximal_queue_lifetime - adjusting "
                        "bounce_queue_lifetime"));
}

TEST(QmgrSettings, BadNumberIsFatal) {
    util::msg_fatal_throws(true);
    test::LogCapture log;
    EXPECT_THROW(QmgrSettings::from_lookup(map_lookup({{"qmgr_message_active_limit", "many"}})), util::FatalError);
    util::msg_fatal_throws(false);
}

TransportLimits limits(int limit, int initial, int cohorts) {
    TransportLimits t;
    t.dest_concurrency_limit = limit;
    t.initial_concurrency = initial;
    t.failed_cohort_limit = cohorts;
    return t;
}

TEST(QmgrQueue, PositiveFeedbackGrowsWindowUpToLimit) {
    auto t = limits(7, 5, 1);
    DestQueue q("example.com", "example.com", t);
    EXPECT_EQ(q.window(), 5);
    q.busy = 5;
    q.positive_feedback();
    EXPECT_EQ(q.window(), 6);
    q.positive_feedback();
    EXPECT_EQ(q.window(), 7);
    q.positive_feedback();
    EXPECT_EQ(q.window(), 7);  // the limit
}

TEST(QmgrQueue, WindowGrowsOnlyNearActualConcurrency) {
    auto t = limits(20, 5, 1);
    DestQueue q("d", "d", t);
    q.busy = 0;  // window 5 is not below busy + initial
    q.positive_feedback();
    EXPECT_EQ(q.window(), 5);
}

TEST(QmgrQueue, NegativeFeedbackKillsAfterCohortLimit) {
    auto t = limits(20, 2, 1);
    DestQueue q("d", "d", t);
    Dsn dsn{"4.4.1", "delivery temporarily suspended: connect refused"};
    q.negative_feedback(dsn);  // 1/2 cohort: window 2 -> 1
    EXPECT_TRUE(q.ready());
    EXPECT_EQ(q.window(), 1);
    q.negative_feedback(dsn);  // 1/2 + 1/1 >= 1: dead
    EXPECT_TRUE(q.dead());
    ASSERT_TRUE(q.dead_reason());
    EXPECT_EQ(*q.dead_reason(), dsn);
    q.positive_feedback();  // revived at the initial concurrency
    EXPECT_TRUE(q.ready());
    EXPECT_EQ(q.window(), 2);
    EXPECT_FALSE(q.dead_reason());
}

TEST(QmgrQueue, ZeroCohortLimitNeverKills) {
    auto t = limits(20, 1, 0);
    DestQueue q("d", "d", t);
    for (int i = 0; i < 10; ++i) q.negative_feedback(Dsn{"4.0.0", "x"});
    EXPECT_TRUE(q.ready());
    EXPECT_EQ(q.window(), 1);
}

TEST(QmgrQueue, PerWindowFeedback) {
    auto t = limits(0, 4, 1);
    t.positive = parse_feedback("1/concurrency", "x");
    DestQueue q("d", "d", t);
    q.busy = 4;
    // 1/4 per success: the window steps after about four successes.
    for (int i = 0; i < 3; ++i) q.positive_feedback();
    EXPECT_EQ(q.window(), 4);
    q.positive_feedback();
    EXPECT_EQ(q.window(), 5);
}

}  // namespace
}  // namespace pf::qmgr
