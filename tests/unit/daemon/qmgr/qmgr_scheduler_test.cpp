// Unit tests: the queue manager's scheduler (placement, batching,
// selection within concurrency windows, throttling and retry routing).
#include "daemon/qmgr/qmgr_scheduler.h"

#include "qmgr_test_util.h"

#include <map>

namespace pf::qmgr {
namespace {

ParamLookup map_lookup(std::map<std::string, std::string, std::less<>> values) {
    return [values](std::string_view name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

struct Fixture {
    ParamLookup lookup;
    QmgrSettings settings;
    Scheduler scheduler;
    using Values = std::map<std::string, std::string, std::less<>>;
    Fixture() : Fixture(Values{}) {}
    explicit Fixture(Values values)
        : lookup(map_lookup(values)), settings(QmgrSettings::from_lookup(lookup)), scheduler(settings, lookup) {}
};

std::vector<EnvelopeRecipient> rcpts(std::initializer_list<const char*> addresses) {
    std::vector<EnvelopeRecipient> out;
    long offset = 100;
    for (const char* a : addresses) out.push_back(EnvelopeRecipient{a, "", "", 0, offset += 10});
    return out;
}

TEST(QmgrScheduler, BatchesByRecipientLimit) {
    Fixture f(Fixture::Values{{"smtp_destination_recipient_limit", "2"}});
    Message m;
    m.queue_id = "Q1";
    auto list = rcpts({"a@x.com", "b@x.com", "c@x.com", "d@y.com"});
    std::vector<Route> routes = {{"smtp", "x.com"}, {"smtp", "x.com"}, {"smtp", "x.com"}, {"smtp", "y.com"}};
    auto deferrals = f.scheduler.assign(m, list, routes);
    EXPECT_TRUE(deferrals.empty());
    EXPECT_EQ(m.refcount, 3);  // x.com: 2 + 1, y.com: 1
    EXPECT_EQ(m.rcpt_count, 4);
    auto* qx = f.scheduler.find_queue("smtp", "x.com");
    ASSERT_NE(qx, nullptr);
    ASSERT_EQ(qx->todo.size(), 2u);
    EXPECT_EQ(qx->todo.front()->recipients.size(), 2u);
}

TEST(QmgrScheduler, OneRecipientTransportsGetQueuesPerRecipient) {
    Fixture f(Fixture::Values{{"local_destination_recipient_limit", "1"}, {"recipient_delimiter", "+"}});
    Message m;
    auto list = rcpts({"Joe+ext@Host.Example", "joe@host.example", "ann@host.example"});
    std::vector<Route> routes(3, Route{"local", "Host.Example"});
    f.scheduler.assign(m, list, routes);
    EXPECT_EQ(m.refcount, 3);
    auto* joe = f.scheduler.find_queue("local", "joe@host.example");
    ASSERT_NE(joe, nullptr);
    EXPECT_EQ(joe->todo.size(), 2u);
    EXPECT_EQ(joe->nexthop(), "Host.Example");
    EXPECT_NE(f.scheduler.find_queue("local", "ann@host.example"), nullptr);
    EXPECT_EQ(per_recipient_queue_name("a-b@d", "N", "-"), "a@n");
}

TEST(QmgrScheduler, DeferTransportsGoToRetryUnlessFlushed) {
    Fixture f(Fixture::Values{{"defer_transports", "smtp"}});
    Message m;
    f.scheduler.assign(m, rcpts({"a@x.com"}), {{"smtp", "x.com"}});
    EXPECT_EQ(f.scheduler.find_queue("smtp", "x.com"), nullptr);
    auto* retry = f.scheduler.find_queue("retry", "4.3.2 deferred transport");
    ASSERT_NE(retry, nullptr);
    EXPECT_EQ(retry->nexthop(), "4.3.2 deferred transport");
    Message flushed;
    flushed.qflags = kFlushDfxp;
    f.scheduler.assign(flushed, rcpts({"a@x.com"}), {{"smtp", "x.com"}});
    EXPECT_NE(f.scheduler.find_queue("smtp", "x.com"), nullptr);
}

TEST(QmgrScheduler, SelectionRespectsWindowsAndPending) {
    Fixture f(Fixture::Values{{"initial_destination_concurrency", "2"}, {"smtp_destination_recipient_limit", "1"},
               {"smtp_destination_concurrency_limit", "2"}});
    Message m;
    // recipient limit 1 for smtp: one queue per recipient; use distinct
    // next hops sharing... use one recipient address repeated instead.
    auto list = rcpts({"a@x.com", "a@x.com", "a@x.com"});
    f.scheduler.assign(m, list, std::vector<Route>(3, Route{"smtp", "x.com"}));
    auto* q = f.scheduler.find_queue("smtp", "a@x.com");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->todo.size(), 3u);
    Transport* t = f.scheduler.select_transport();
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->name, "smtp");
    t->pending++;
    ASSERT_NE(f.scheduler.select_transport(), nullptr);  // window 2 allows a second
    t->pending++;
    EXPECT_EQ(f.scheduler.select_transport(), nullptr);  // two pending: the maximum
    Entry* e1 = f.scheduler.select_entry(*t);
    Entry* e2 = f.scheduler.select_entry(*t);
    ASSERT_NE(e1, nullptr);
    ASSERT_NE(e2, nullptr);
    EXPECT_EQ(f.scheduler.select_entry(*t), nullptr);  // window full
    t->pending = 0;
    EXPECT_EQ(f.scheduler.select_transport(), nullptr);
    f.scheduler.delivery_result(e1, false, false, std::nullopt);
    EXPECT_EQ(f.scheduler.entry_done(e1), nullptr);
    EXPECT_NE(f.scheduler.select_transport(), nullptr);
    f.scheduler.delivery_result(e2, false, false, std::nullopt);
    f.scheduler.entry_done(e2);
    Entry* e3 = f.scheduler.select_entry(*t);
    ASSERT_NE(e3, nullptr);
    f.scheduler.delivery_result(e3, false, false, std::nullopt);
    EXPECT_EQ(f.scheduler.entry_done(e3), &m);  // last entry: the message is done
    EXPECT_EQ(f.scheduler.find_queue("smtp", "a@x.com"), nullptr);  // empty queues go away
    EXPECT_FALSE(m.defer);
}

TEST(QmgrScheduler, DeadTransportSendsEntriesToRetry) {
    Fixture f;
    Message m;
    f.scheduler.assign(m, rcpts({"a@x.com", "b@y.com"}), {{"smtp", "x.com"}, {"smtp", "y.com"}});
    Transport& smtp = f.scheduler.transport("smtp");
    Dsn dsn{"4.3.0", "mail transport unavailable"};
    auto sync = f.scheduler.throttle_transport(smtp, dsn);
    EXPECT_TRUE(sync.empty());
    auto* retry = f.scheduler.find_queue("retry", "4.3.0 mail transport unavailable");
    ASSERT_NE(retry, nullptr);
    EXPECT_EQ(retry->todo.size(), 2u);
    EXPECT_TRUE(smtp.queues.empty());
    // New mail for a dead transport goes to retry as well.
    Message m2;
    f.scheduler.assign(m2, rcpts({"c@x.com"}), {{"smtp", "x.com"}});
    EXPECT_EQ(retry->todo.size(), 3u);
    // With retry dead too, the caller must defer at once.
    auto sync2 = f.scheduler.throttle_transport(f.scheduler.transport("retry"), dsn);
    EXPECT_EQ(sync2.size(), 3u);
    Message m3;
    auto deferrals = f.scheduler.assign(m3, rcpts({"d@x.com"}), {{"smtp", "x.com"}});
    ASSERT_EQ(deferrals.size(), 1u);
    EXPECT_EQ(deferrals[0].dsn, dsn);
    EXPECT_EQ(m3.refcount, 0);
    // postqueue -f: everything lives again.
    f.scheduler.revive_all();
    EXPECT_FALSE(smtp.dead);
}

TEST(QmgrScheduler, HopFailureKillsDestination) {
    Fixture f(Fixture::Values{{"initial_destination_concurrency", "1"}, {"retry_destination_recipient_limit", "50"}});
    Message m;
    f.scheduler.assign(m, rcpts({"a@x.com", "b@x.com"}), {{"smtp", "x.com"}, {"smtp", "x.com"}});
    Message m2;
    f.scheduler.assign(m2, rcpts({"c@x.com"}), {{"smtp", "x.com"}});
    Transport& smtp = f.scheduler.transport("smtp");
    Entry* e = f.scheduler.select_entry(smtp);
    ASSERT_NE(e, nullptr);
    auto sync = f.scheduler.delivery_result(e, false, true, Dsn{"4.4.1", "connect to x.com: refused"});
    EXPECT_TRUE(sync.empty());
    EXPECT_TRUE(m.defer);
    auto dead = f.scheduler.take_newly_dead();
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].first, "smtp");
    EXPECT_EQ(dead[0].second, "x.com");
    auto* q = f.scheduler.find_queue("smtp", "x.com");
    ASSERT_NE(q, nullptr);
    EXPECT_TRUE(q->dead());
    EXPECT_EQ(q->dead_reason()->reason, "delivery temporarily suspended: connect to x.com: refused");
    auto* retry = f.scheduler.find_queue("retry", "4.4.1 delivery temporarily suspended: connect to x.com: refused");
    ASSERT_NE(retry, nullptr);
    EXPECT_EQ(retry->todo.size(), 1u);  // m2's entry moved there
    f.scheduler.entry_done(e);
    EXPECT_NE(f.scheduler.find_queue("smtp", "x.com"), nullptr);  // dead queues stay
    f.scheduler.unthrottle_queue("smtp", "x.com");
    EXPECT_EQ(f.scheduler.find_queue("smtp", "x.com"), nullptr);
}

TEST(QmgrScheduler, VerpMeansOneRecipientPerEntry) {
    Fixture f;
    Message m;
    m.env.verp_delims = "+=";
    f.scheduler.assign(m, rcpts({"a@x.com", "b@x.com"}), {{"smtp", "x.com"}, {"smtp", "x.com"}});
    EXPECT_EQ(m.refcount, 2);
}

TEST(QmgrScheduler, RateDelayPausesDestinationAfterEachDelivery) {
    Fixture f(Fixture::Values{{"smtp_destination_rate_delay", "2s"}, {"smtp_initial_destination_concurrency", "5"}});
    Message m1, m;
    m1.queue_id = "Q1";
    m.queue_id = "Q2";
    f.scheduler.assign(m1, rcpts({"a@x.com"}), {{"smtp", "x.com"}});
    f.scheduler.assign(m, rcpts({"b@x.com"}), {{"smtp", "x.com"}});
    auto& t = f.scheduler.transport("smtp");
    EXPECT_EQ(t.limits.dest_concurrency_limit, 1);
    Entry* first = f.scheduler.select_entry(t);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(f.scheduler.select_entry(t), nullptr);  // one at a time
    f.scheduler.delivery_result(first, false, false, std::nullopt);
    EXPECT_EQ(f.scheduler.entry_done(first), &m1);
    auto* q = f.scheduler.find_queue("smtp", "x.com");
    ASSERT_NE(q, nullptr);
    EXPECT_TRUE(q->suspended());
    EXPECT_EQ(f.scheduler.select_entry(t), nullptr);  // paused
    auto paused = f.scheduler.take_newly_suspended();
    ASSERT_EQ(paused.size(), 1u);
    EXPECT_EQ(paused[0], (std::pair<std::string, std::string>{"smtp", "x.com"}));
    f.scheduler.resume_queue("smtp", "x.com");
    Entry* second = f.scheduler.select_entry(t);
    ASSERT_NE(second, nullptr);
    f.scheduler.delivery_result(second, false, false, std::nullopt);
    EXPECT_EQ(f.scheduler.entry_done(second), &m);
    // Suspended queues stay until resumed; then an empty one goes away.
    EXPECT_NE(f.scheduler.find_queue("smtp", "x.com"), nullptr);
    f.scheduler.resume_queue("smtp", "x.com");
    EXPECT_EQ(f.scheduler.find_queue("smtp", "x.com"), nullptr);
}

TEST(QmgrScheduler, NoPauseWithoutRateDelay) {
    Fixture f;
    Message m;
    f.scheduler.assign(m, rcpts({"a@x.com"}), {{"smtp", "x.com"}});
    auto& t = f.scheduler.transport("smtp");
    Entry* e = f.scheduler.select_entry(t);
    ASSERT_NE(e, nullptr);
    f.scheduler.delivery_result(e, false, false, std::nullopt);
    f.scheduler.entry_done(e);
    EXPECT_TRUE(f.scheduler.take_newly_suspended().empty());
    EXPECT_EQ(f.scheduler.find_queue("smtp", "x.com"), nullptr);
}

}  // namespace
}  // namespace pf::qmgr
