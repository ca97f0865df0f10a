// Unit tests of the scache daemon's tables (daemon/scache/scache_store.h)
// and statistics (scache_service.h).
#include "daemon/scache/scache_service.h"
#include "daemon/scache/scache_store.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

namespace pf::scache {
namespace {

ipc::UniqueFd some_fd() { return ipc::UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

TEST(ScacheStore, EndpointSessionsComeBackOldestFirstOnce) {
    Store s;
    auto t0 = Clock::now();
    s.save_endp(10, "smtp\n1.2.3.4\n25", "first", some_fd(), t0);
    s.save_endp(10, "smtp\n1.2.3.4\n25", "second", some_fd(), t0);
    EXPECT_EQ(s.sizes().sess_count, 2u);
    EXPECT_EQ(s.sizes().endp_count, 1u);
    auto a = s.find_endp("smtp\n1.2.3.4\n25", t0);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->fd.valid());
    EXPECT_EQ(a->endp_prop, "first");
    auto b = s.find_endp("smtp\n1.2.3.4\n25", t0);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->endp_prop, "second");
    EXPECT_FALSE(s.find_endp("smtp\n1.2.3.4\n25", t0));
    EXPECT_EQ(s.sizes().endp_count, 0u);
}

TEST(ScacheStore, DestinationFindsAnEndpointWithAConnection) {
    Store s;
    auto t0 = Clock::now();
    s.save_dest(10, "dest", "dprop", "endp-a", t0);
    s.save_dest(10, "dest", "dprop", "endp-b", t0);
    s.save_dest(10, "dest", "dprop", "endp-b", t0);  // refreshed, not doubled
    s.save_endp(10, "endp-b", "eprop", some_fd(), t0);
    EXPECT_EQ(s.sizes().dest_count, 1u);
    auto f = s.find_dest("dest", t0);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->dest_prop, "dprop");
    EXPECT_EQ(f->endp_prop, "eprop");
    EXPECT_FALSE(s.find_dest("dest", t0));
    EXPECT_FALSE(s.find_dest("other", t0));
}

TEST(ScacheStore, EntriesExpire) {
    Store s;
    auto t0 = Clock::now();
    s.save_endp(2, "e", "p", some_fd(), t0);
    s.save_dest(5, "d", "", "e", t0);
    ASSERT_TRUE(s.next_expiry());
    EXPECT_EQ(*s.next_expiry(), t0 + std::chrono::seconds(2));
    s.expire(t0 + std::chrono::seconds(3));
    EXPECT_EQ(s.sizes().sess_count, 0u);
    EXPECT_EQ(s.sizes().dest_count, 1u);
    EXPECT_FALSE(s.find_dest("d", t0 + std::chrono::seconds(3)));
    s.expire(t0 + std::chrono::seconds(5));
    EXPECT_EQ(s.sizes().dest_count, 0u);
    EXPECT_FALSE(s.next_expiry());
}

TEST(ScacheService, NoStatisticsWhenIdle) {
    Service svc(2, 5);
    EXPECT_TRUE(svc.dump_statistics(0).empty());
}

}  // namespace
}  // namespace pf::scache
