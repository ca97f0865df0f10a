// Unit tests of the delivery agents' side of address probes
// (ipc/deliver_completion.cpp, the reference's verify_append): MTA probes
// reach the verify service as updates, user probes the trace service.
#include "ipc/deliver_completion.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::ipc {
namespace {

struct Seen {
    std::vector<std::string> logs, updates, appends;
};

DeliveryRecorder recorder(const DeliveryAgentSettings& s, const DeliveryRequest& rq, Seen& seen, bool ok = true) {
    DeliveryRecorder r(s, rq);
    r.set_log_sink([&seen](const std::string& line) { seen.logs.push_back(line); });
    r.set_append_call([&seen](std::string_view service, unsigned, const DeliveryRecipient&, const Dsn& dsn) {
        seen.appends.push_back(std::string(service) + " " + dsn.action);
        return true;
    });
    r.set_verify_call([&seen, ok](std::string_view address, int status, std::string_view reason) {
        seen.updates.push_back(fmt::format("{} {} {}", address, status, reason));
        return ok;
    });
    r.set_now(TimeStamp{1700000013, 0});
    return r;
}

DeliveryRequest probe_request(unsigned flags) {
    DeliveryRequest rq;
    rq.flags = flags;
    rq.queue_id = "4ABCDEF";
    rq.times.incoming_arrival = TimeStamp{1700000010, 0};
    DeliveryRecipient r;
    r.orig_addr = "Alias@example.com";
    r.address = "user@example.com";
    rq.recipients.push_back(r);
    return rq;
}

TEST(VerifyAppend, MtaProbeUpdatesVerifyForBothAddresses) {
    DeliveryAgentSettings s;
    auto rq = probe_request(kDeliveryMtaVerify);
    Seen seen;
    auto r = recorder(s, rq, seen);
    EXPECT_EQ(r.sent(rq.recipients[0], "pipe", Dsn::simple("2.0.0", "delivers to command: cat")), 0);
    ASSERT_EQ(seen.updates.size(), 2u);
    EXPECT_EQ(seen.updates[0], "Alias@example.com 0 delivers to command: cat");
    EXPECT_EQ(seen.updates[1], "user@example.com 0 delivers to command: cat");
    EXPECT_TRUE(seen.appends.empty());
    ASSERT_EQ(seen.logs.size(), 1u);
    EXPECT_NE(seen.logs[0].find("4ABCDEF: to=<user@example.com>, orig_to=<Alias@example.com>, relay=pipe"),
              std::string::npos)
        << seen.logs[0];
    EXPECT_NE(seen.logs[0].find("dsn=2.0.0, status=deliverable (delivers to command: cat)"), std::string::npos)
        << seen.logs[0];

    EXPECT_EQ(r.bounce(rq.recipients[0], "none", Dsn::simple("5.1.1", "unknown user")), 0);
    EXPECT_EQ(seen.updates.back(), "user@example.com 2 unknown user");
    EXPECT_NE(seen.logs.back().find("dsn=5.1.1, status=undeliverable (unknown user)"), std::string::npos);
    EXPECT_EQ(r.defer(rq.recipients[0], "none", Dsn::simple("4.4.1", "connection refused")), 0);
    EXPECT_EQ(seen.updates.back(), "user@example.com 1 connection refused");
}

TEST(VerifyAppend, SameAddressOnceNegativeCacheOffAndFailure) {
    DeliveryAgentSettings s;
    auto rq = probe_request(kDeliveryMtaVerify);
    rq.recipients[0].orig_addr = "USER@example.com";
    Seen seen;
    auto r = recorder(s, rq, seen);
    EXPECT_EQ(r.sent(rq.recipients[0], "none", Dsn::simple("2.0.0", "ok")), 0);
    EXPECT_EQ(seen.updates.size(), 1u);

    s.verify_negative_cache = false;
    Seen seen2;
    auto r2 = recorder(s, rq, seen2);
    EXPECT_EQ(r2.bounce(rq.recipients[0], "none", Dsn::simple("5.1.1", "unknown")), 0);
    EXPECT_TRUE(seen2.updates.empty());
    EXPECT_NE(seen2.logs.back().find("status=undeliverable-but-not-cached (unknown)"), std::string::npos);

    Seen seen3;
    DeliveryAgentSettings s3;
    auto r3 = recorder(s3, rq, seen3, false);
    EXPECT_EQ(r3.sent(rq.recipients[0], "none", Dsn::simple("2.0.0", "ok")), -1);
    EXPECT_TRUE(seen3.logs.empty());
}

TEST(VerifyAppend, UserProbeGoesToTrace) {
    DeliveryAgentSettings s;
    auto rq = probe_request(kDeliveryUserVerify);
    Seen seen;
    auto r = recorder(s, rq, seen);
    EXPECT_EQ(r.sent(rq.recipients[0], "none", Dsn::simple("2.0.0", "ok")), 0);
    EXPECT_TRUE(seen.updates.empty());
    ASSERT_EQ(seen.appends.size(), 1u);
    EXPECT_EQ(seen.appends[0], "trace deliverable");
}

}  // namespace
}  // namespace pf::ipc
