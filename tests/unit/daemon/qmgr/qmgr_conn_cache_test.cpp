// The queue manager's on-demand connection caching bits
// (update_connection_caching in daemon/qmgr/qmgr_scheduler.h).
#include "daemon/qmgr/qmgr_scheduler.h"

#include <gtest/gtest.h>

namespace pf::qmgr {
namespace {

constexpr unsigned kBoth = ipc::kDeliveryConnLoad | ipc::kDeliveryConnStore;

TEST(QmgrConnCache, OffUntilDeliveriesRunBackToBack) {
    TransportLimits limits;
    DestQueue q("example.com", "example.com", limits);
    q.busy = 1;
    q.last_done = 0;
    update_connection_caching(q, 1000);
    EXPECT_EQ(q.dflags, 0u);
    // One finished within the last second: load and store.
    q.last_done = 999;
    update_connection_caching(q, 1000);
    EXPECT_EQ(q.dflags, kBoth);
}

TEST(QmgrConnCache, StoreEndsWhenTheSurgeIsOverButLoadStays) {
    TransportLimits limits;
    DestQueue q("example.com", "example.com", limits);
    q.dflags = kBoth;
    q.busy = 2;  // concurrent deliveries keep it on
    q.last_done = 0;
    update_connection_caching(q, 1000);
    EXPECT_EQ(q.dflags, kBoth);
    q.busy = 1;
    update_connection_caching(q, 1000);
    EXPECT_EQ(q.dflags, static_cast<unsigned>(ipc::kDeliveryConnLoad));
    // Back to back again: store again.
    q.last_done = 1000;
    update_connection_caching(q, 1001);
    EXPECT_EQ(q.dflags, kBoth);
}

}  // namespace
}  // namespace pf::qmgr
