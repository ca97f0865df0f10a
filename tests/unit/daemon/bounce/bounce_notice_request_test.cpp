// Unit tests for the bounce service's notice requests on the wire
// (ipc/bounce_client.h): what qmgr and cleanup send, and what the daemon
// accepts.
#include "ipc/bounce_client.h"

#include <gtest/gtest.h>

namespace pf::ipc {
namespace {

TEST(BounceNoticeRequest, RoundTrip) {
    BounceNoticeRequest r;
    r.request = "flush";
    r.flags = kBounceFlagClean;
    r.queue_name = "incoming";
    r.queue_id = "ABC123";
    r.encoding = "8bit";
    r.smtputf8 = 1;
    r.sender = "alice@example.com";
    r.dsn_envid = "ENV";
    r.dsn_ret = 2;
    auto back = bounce_notice_from_attrs(to_attrs(r));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->request, "flush");
    EXPECT_EQ(back->flags, kBounceFlagClean);
    EXPECT_EQ(back->queue_name, "incoming");
    EXPECT_EQ(back->queue_id, "ABC123");
    EXPECT_EQ(back->encoding, "8bit");
    EXPECT_EQ(back->smtputf8, 1);
    EXPECT_EQ(back->sender, "alice@example.com");
    EXPECT_EQ(back->dsn_envid, "ENV");
    EXPECT_EQ(back->dsn_ret, 2);
    EXPECT_TRUE(back->verp_delims.empty());
}

TEST(BounceNoticeRequest, QmgrStyleFlushWithVerp) {
    // qmgr's own encoding (src/daemon/qmgr): flush plus verp_delims.
    AttrList a{{"request", "flush"}, {"flags", "0"},        {"queue_name", "active"}, {"queue_id", "Q"},
               {"encoding", ""},     {"smtputf8", "0"},     {"sender", "s@x"},        {"dsn_envid", ""},
               {"dsn_ret", "0"},     {"verp_delims", "+="}};
    auto r = bounce_notice_from_attrs(a);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->verp_delims, "+=");
}

TEST(BounceNoticeRequest, OneRecipient) {
    BounceNoticeRequest r;
    r.request = "one";
    r.queue_name = "active";
    r.queue_id = "Q";
    r.recipient.address = "bob@example.com";
    r.recipient.offset = 77;
    r.dsn = Dsn::simple("5.1.1", "no such user");
    auto back = bounce_notice_from_attrs(to_attrs(r));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->recipient.address, "bob@example.com");
    EXPECT_EQ(back->recipient.offset, 77);
    EXPECT_EQ(back->dsn.status, "5.1.1");
    EXPECT_EQ(back->dsn.reason, "no such user");
}

TEST(BounceNoticeRequest, Malformed) {
    EXPECT_FALSE(bounce_notice_from_attrs(AttrList{{"request", "flush"}}));
    auto unknown = bounce_notice_from_attrs(AttrList{{"request", "frobnicate"}});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error(), "unknown request: \"frobnicate\"");
    AttrList verp{{"request", "verp"}, {"flags", "0"},    {"queue_name", "active"}, {"queue_id", "Q"},
                  {"encoding", ""},    {"smtputf8", "0"}, {"sender", "s@x"},        {"dsn_envid", ""},
                  {"dsn_ret", "0"}};
    EXPECT_FALSE(bounce_notice_from_attrs(verp));
}

}  // namespace
}  // namespace pf::ipc
