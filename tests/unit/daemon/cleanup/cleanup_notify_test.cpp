// Unit tests: a NOTIFY=SUCCESS recipient rewritten by virtual_alias_maps
// gets an "expanded" trace record (2.0.0 "alias expanded", for the
// delivery report qmgr asks for later) and the new recipients keep the
// other NOTIFY bits, as in the reference; a failed trace append makes the
// message fail with a write error. An address probe from verify(8)
// (trace_flags with the MTA probe bit) whose recipient expands to several
// addresses is answered by cleanup itself, as the reference's is: one
// verify call for the original recipient (2.0.0 "aliased to multiple
// recipients", action "deliverable") and no recipient written; an alias to
// one address is probed as usual, a user probe (sendmail -bv) expands.
#include "daemon/cleanup/cleanup_session.h"
#include "memory_sink.h"

#include "ipc/delivery_request.h"
#include "ipc/services.h"
#include "queue/record.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace pf::cleanup {
namespace {

namespace rec = queue::rec;

// The notify_flags attributes among the records.
std::vector<std::string> notify_attrs(const MemorySink& sink) {
    std::vector<std::string> out;
    for (const auto& [t, d] : sink.records)
        if (t == rec::kAttr && d.starts_with("notify_flags=")) out.push_back(d);
    return out;
}

// Warnings off for one test (back on even when an assertion ends it).
struct Quiet {
    Quiet() { util::msg_set_stderr(false); }
    ~Quiet() { util::msg_set_stderr(true); }
};

struct Traced {
    ipc::DeliveryRecipient rcpt;
    ipc::Dsn dsn;
};

struct Verified {
    ipc::DeliveryRecipient rcpt;
    ipc::Dsn dsn;
    ipc::TimeStamp arrival;
};

struct AliasedMessage {
    CleanupSettings settings;
    MemorySink sink;
    CleanupSession session;
    std::vector<Traced> traced;
    bool trace_ok = true;
    std::vector<Verified> verified;
    bool verify_ok = true;
    AliasedMessage()
        : session(settings, sink, "NTF123", 1700000000,
                  [](std::string_view, std::string_view a) -> std::expected<std::string, std::string> {
                      return std::string(a);
                  }) {
        auto maps = mail::Maps::open("virtual_alias_maps",
                                     "inline:{ one@example.com=bob@example.com, "
                                     "{ two@example.com = bob@example.com, carol@example.com } }",
                                     dict::kLock);
        if (maps) settings.virtual_alias_maps = std::move(*maps);
        session.set_trace_call([this](const ipc::DeliveryRecipient& r, const ipc::Dsn& d) {
            traced.push_back({r, d});
            return trace_ok;
        });
        session.set_verify_call(
            [this](const ipc::DeliveryRecipient& r, const ipc::Dsn& d, const ipc::TimeStamp& arrival) {
                verified.push_back({r, d, arrival});
                return verify_ok;
            });
    }
    // An address probe as verify(8) posts it.
    unsigned probe(unsigned trace_flags, const std::string& rcpt) {
        session.set_flags(ipc::kCleanupMapOk);
        session.record(rec::kTime, "1700000000 123456");
        session.record(rec::kAttr, "log_origin=local");
        session.record(rec::kAttr, "trace_flags=" + std::to_string(trace_flags));
        session.record(rec::kFrom, "double-bounce@example.com");
        session.record(rec::kRcpt, rcpt);
        session.record(rec::kMessage, "");
        session.record(rec::kNorm, "Received: by host");
        session.record(rec::kExtracted, "");
        session.record(rec::kEnd, "");
        return session.finish();
    }
    unsigned run(const std::string& notify, const std::string& rcpt) {
        session.set_flags(ipc::kCleanupBounce | ipc::kCleanupFilter | ipc::kCleanupBccOk | ipc::kCleanupMapOk);
        session.record(rec::kTime, "1700000000");
        session.record(rec::kFrom, "alice@example.com");
        session.record(rec::kAttr, "notify_flags=" + notify);
        session.record(rec::kRcpt, rcpt);
        session.record(rec::kMessage, "");
        session.record(rec::kNorm, "Received: by host");
        session.record(rec::kNorm, "Subject: test");
        session.record(rec::kNorm, "");
        session.record(rec::kExtracted, "");
        session.record(rec::kEnd, "");
        return session.finish();
    }
};

TEST(CleanupNotify, SuccessOnAnAliasIsReportedAsExpanded) {
    Quiet quiet;
    AliasedMessage m;
    ASSERT_TRUE(m.settings.virtual_alias_maps.has_value());
    EXPECT_EQ(m.run("2", "two@example.com"), 0u);
    ASSERT_EQ(m.traced.size(), 1u);
    EXPECT_EQ(m.traced[0].rcpt.address, "two@example.com");
    EXPECT_EQ(m.traced[0].rcpt.dsn_notify, 2);
    EXPECT_EQ(m.traced[0].dsn.status, "2.0.0");
    EXPECT_EQ(m.traced[0].dsn.action, "expanded");
    EXPECT_EQ(m.traced[0].dsn.reason, "alias expanded");
    EXPECT_TRUE(m.session.traced());
    EXPECT_EQ(m.sink.of_type(rec::kRcpt), (std::vector<std::string>{"bob@example.com", "carol@example.com"}));
    // SUCCESS alone becomes NEVER on the new recipients.
    EXPECT_EQ(notify_attrs(m.sink), (std::vector<std::string>{"notify_flags=1", "notify_flags=1"}));
}

TEST(CleanupNotify, OtherBitsStayAndPlainRecipientsAreNotTraced) {
    Quiet quiet;
    AliasedMessage m;
    EXPECT_EQ(m.run("6", "one@example.com"), 0u);  // SUCCESS,FAILURE
    ASSERT_EQ(m.traced.size(), 1u);
    EXPECT_EQ(notify_attrs(m.sink), (std::vector<std::string>{"notify_flags=4"}));
    AliasedMessage plain;
    EXPECT_EQ(plain.run("2", "dave@example.com"), 0u);
    EXPECT_TRUE(plain.traced.empty());
    EXPECT_FALSE(plain.session.traced());
}

TEST(CleanupNotify, FailedTraceAppendFailsTheMessage) {
    Quiet quiet;
    AliasedMessage m;
    m.trace_ok = false;
    EXPECT_NE(m.run("2", "one@example.com") & ipc::kCleanupStatWrite, 0u);
}

TEST(CleanupNotify, ProbeOfAMultipleAliasIsAnsweredDeliverable) {
    Quiet quiet;
    AliasedMessage m;
    EXPECT_EQ(m.probe(ipc::kDeliveryMtaVerify, "two@example.com"), 0u);
    ASSERT_EQ(m.verified.size(), 1u);
    EXPECT_EQ(m.verified[0].rcpt.address, "two@example.com");
    EXPECT_EQ(m.verified[0].dsn.status, "2.0.0");
    EXPECT_EQ(m.verified[0].dsn.action, "deliverable");
    EXPECT_EQ(m.verified[0].dsn.reason, "aliased to multiple recipients");
    EXPECT_EQ(m.verified[0].arrival.sec, 1700000000);
    EXPECT_EQ(m.verified[0].arrival.usec, 123456);
    EXPECT_TRUE(m.sink.of_type(rec::kRcpt).empty());
    EXPECT_TRUE(m.traced.empty());
}

TEST(CleanupNotify, ProbeOfASingleAliasAndUserProbesAreNotAnswered) {
    Quiet quiet;
    AliasedMessage single;
    EXPECT_EQ(single.probe(ipc::kDeliveryMtaVerify, "one@example.com"), 0u);
    EXPECT_TRUE(single.verified.empty());
    EXPECT_EQ(single.sink.of_type(rec::kRcpt), (std::vector<std::string>{"bob@example.com"}));
    AliasedMessage user;
    EXPECT_EQ(user.probe(ipc::kDeliveryUserVerify, "two@example.com"), 0u);
    EXPECT_TRUE(user.verified.empty());
    EXPECT_EQ(user.sink.of_type(rec::kRcpt), (std::vector<std::string>{"bob@example.com", "carol@example.com"}));
}

TEST(CleanupNotify, FailedVerifyUpdateFailsTheProbe) {
    Quiet quiet;
    AliasedMessage m;
    m.verify_ok = false;
    EXPECT_NE(m.probe(ipc::kDeliveryMtaVerify, "two@example.com") & ipc::kCleanupStatWrite, 0u);
}

}  // namespace
}  // namespace pf::cleanup
