// Unit tests of anvil's counters (daemon/anvil/anvil_table.h): connection
// counts per anvil client, rate windows, expiry and the statistics lines.
#include "daemon/anvil/anvil_table.h"

#include <gtest/gtest.h>

namespace pf::anvil {
namespace {

TEST(AnvilTable, ConnectionCountAndRate) {
    AnvilTable t(60);
    EXPECT_EQ(t.connect(1, "smtp:192.0.2.1", 1000).count, 1);
    const Remote& r = t.connect(2, "smtp:192.0.2.1", 1001);
    EXPECT_EQ(r.count, 2);
    EXPECT_EQ(r.rate, 2);
    t.disconnect(1, "smtp:192.0.2.1", 1002);
    EXPECT_EQ(t.lookup("smtp:192.0.2.1", 1002).count, 1);
    // A disconnect for something the client does not hold changes nothing.
    t.disconnect(1, "smtp:192.0.2.1", 1003);
    EXPECT_EQ(t.lookup("smtp:192.0.2.1", 1003).count, 1);
    // One connection per anvil client: a new connect replaces the old one.
    t.connect(2, "smtp:192.0.2.2", 1004);
    EXPECT_EQ(t.lookup("smtp:192.0.2.1", 1004).count, 0);
    t.client_gone(2, 1005);
    EXPECT_EQ(t.lookup("smtp:192.0.2.2", 1005).count, 0);
}

TEST(AnvilTable, RateWindowRestartsAfterTimeUnit) {
    AnvilTable t(60);
    t.connect(1, "smtp:a", 1000);
    EXPECT_EQ(t.event(1, AnvilTable::Event::mail, "smtp:a", 1010), 1);
    EXPECT_EQ(t.event(1, AnvilTable::Event::mail, "smtp:a", 1060), 2);
    EXPECT_EQ(t.event(1, AnvilTable::Event::rcpt, "smtp:a", 1060), 1);
    // start + unit < now: a new window.
    EXPECT_EQ(t.event(1, AnvilTable::Event::mail, "smtp:a", 1061), 1);
    EXPECT_EQ(t.lookup("smtp:a", 1061).rcpt, 0);
    EXPECT_EQ(t.newtls_rate("smtp:a", 1061), 0);
    EXPECT_EQ(t.event(1, AnvilTable::Event::newtls, "smtp:a", 1062), 1);
    EXPECT_EQ(t.newtls_rate("smtp:a", 1062), 1);
    // An event for an unknown client counts as its connection.
    EXPECT_EQ(t.event(3, AnvilTable::Event::auth, "smtp:b", 1062), 1);
    EXPECT_EQ(t.lookup("smtp:b", 1062).count, 1);
}

TEST(AnvilTable, IdleEntriesExpireAfterOneTimeUnit) {
    AnvilTable t(60);
    t.connect(1, "smtp:a", 1000);
    t.disconnect(1, "smtp:a", 1001);
    t.expire(1060);
    EXPECT_EQ(t.size(), 1u);
    t.expire(1061);
    EXPECT_EQ(t.size(), 0u);
}

TEST(AnvilTable, StatisticsReportPeaksOnce) {
    AnvilTable t(60);
    t.connect(1, "smtp:192.0.2.1", 1000);
    t.connect(2, "smtp:192.0.2.1", 1000);
    t.event(1, AnvilTable::Event::rcpt, "smtp:192.0.2.1", 1000);
    auto lines = t.status_report();
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].rfind("statistics: max connection rate 2/60s for (smtp:192.0.2.1) ", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1].rfind("statistics: max connection count 2 for (smtp:192.0.2.1) ", 0), 0u) << lines[1];
    EXPECT_EQ(lines[2].rfind("statistics: max recipient rate 1/60s for (smtp:192.0.2.1) ", 0), 0u) << lines[2];
    EXPECT_EQ(lines[3].rfind("statistics: max cache size 1 at", 0), 0u) << lines[3];
    EXPECT_TRUE(t.status_report().empty());
}

}  // namespace
}  // namespace pf::anvil
