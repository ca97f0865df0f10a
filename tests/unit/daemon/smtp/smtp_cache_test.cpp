// Unit tests of the smtp client's connection caching: sessions that end
// without QUIT for the cache, resumed sessions (no greeting or EHLO, an
// RSET probe first), the reuse limits, and the session properties handed
// through scache (daemon/smtp/smtp_cache.h, smtp_session.h).
#include "daemon/smtp/smtp_cache.h"
#include "daemon/smtp/smtp_session.h"
#include "daemon/smtp/smtp_settings.h"
#include "smtp_peer_fixture.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <string>
#include <thread>

namespace pf::smtp_agent {
namespace {

// The peer of these tests: a plain EHLO, 250 to RCPT and RSET.
ScriptedPeer cache_peer() {
    ScriptedPeer p;
    p.ehlo = "250-test\r\n250-PIPELINING\r\n250 8BITMIME";
    p.rcpt = "250 Ok";
    p.replies["RSET"] = "250 2.0.0 Ok";
    return p;
}

SessionMessage one_message() {
    SessionMessage m;
    m.sender = "sender@example.com";
    m.size = 20;
    m.recipients.push_back({"a@x.test", "", 0});
    m.write_content = [](smtp::SmtpStream& s) {
        s.write("Subject: x\r\n\r\nbody\r\n");
        return s.flush().has_value();
    };
    return m;
}

struct Outcome {
    SessionResult result;
    std::string received;
    bool cacheable = false;
    int reuse_count = 0;
    bool probe = true;
};

// mode: 0 new session; 1 resumed session; 2 resumed, RSET probe only.
Outcome converse(ScriptedPeer peer, int mode, long expire_time, int count_limit, int reuse_count = 0) {
    Outcome out;
    converse_with(peer, [&](int fd) {
        SmtpSettings settings = test_settings();
        SessionPeer sp{"mx.example", "192.0.2.1", 25, false};
        SmtpSession session(settings, sp, fd);
        if (mode == 0) {
            session.allow_caching(expire_time, count_limit);
        } else {
            SessionResume r;
            r.features.flags = smtp::kFeaturePipelining;
            r.expire_time = expire_time;
            r.reuse_count = reuse_count;
            session.resume(r, count_limit);
            out.probe = session.rset_probe();
        }
        if (mode != 2 && out.probe) out.result = session.deliver(one_message());
        out.cacheable = session.cacheable();
        out.reuse_count = session.reuse_count();
    });
    out.received = peer.received;
    return out;
}

long now() { return static_cast<long>(std::time(nullptr)); }

TEST(SmtpCache, CachedSessionEndsWithoutQuit) {
    auto o = converse(cache_peer(), 0, now() + 300, 0);
    EXPECT_EQ(o.received,
              "EHLO client.example\r\n"
              "MAIL FROM:<sender@example.com>\r\n"
              "RCPT TO:<a@x.test>\r\n"
              "DATA\r\n"
              "Subject: x\r\n\r\nbody\r\n.\r\n");
    EXPECT_TRUE(o.cacheable);
    ASSERT_EQ(o.result.events.size(), 1u);
    EXPECT_TRUE(o.result.events[0].ok);
}

TEST(SmtpCache, ExpiredSessionSendsQuitWithTheDot) {
    auto o = converse(cache_peer(), 0, now() - 1, 0);
    EXPECT_TRUE(o.received.ends_with(".\r\nQUIT\r\n")) << o.received;
    EXPECT_FALSE(o.cacheable);
}

TEST(SmtpCache, ResumedSessionProbesWithRsetAndSkipsEhlo) {
    ScriptedPeer p = cache_peer();
    p.greeting.clear();
    auto o = converse(p, 1, now() + 300, 0, 1);
    EXPECT_TRUE(o.probe);
    EXPECT_EQ(o.received,
              "RSET\r\n"
              "MAIL FROM:<sender@example.com>\r\n"
              "RCPT TO:<a@x.test>\r\n"
              "DATA\r\n"
              "Subject: x\r\n\r\nbody\r\n.\r\n");
    EXPECT_EQ(o.reuse_count, 2);
    EXPECT_TRUE(o.cacheable);
}

TEST(SmtpCache, ReuseCountLimitEndsTheSession) {
    ScriptedPeer p = cache_peer();
    p.greeting.clear();
    // Reused once before, limit 2: this is the last use.
    auto o = converse(p, 1, now() + 300, 2, 1);
    EXPECT_TRUE(o.received.ends_with(".\r\nQUIT\r\n")) << o.received;
    EXPECT_FALSE(o.cacheable);
}

TEST(SmtpCache, RejectedProbeDropsTheConnectionQuietly) {
    ScriptedPeer p = cache_peer();
    p.greeting.clear();
    p.replies["RSET"] = "421 4.4.2 go away";
    auto o = converse(p, 2, now() + 300, 0);
    EXPECT_FALSE(o.probe);
    EXPECT_TRUE(o.result.events.empty());
    EXPECT_FALSE(o.cacheable);
}

TEST(SmtpCache, LostConnectionInProbeIsNotReported) {
    ScriptedPeer p = cache_peer();
    p.greeting.clear();
    p.close_after_greeting = true;
    auto o = converse(p, 2, now() + 300, 0);
    EXPECT_FALSE(o.probe);
    EXPECT_TRUE(o.result.events.empty());
    EXPECT_FALSE(o.cacheable);
}

TEST(SmtpCache, SessionPropertiesRoundTrip) {
    SessionPeer peer{"mx.example", "192.0.2.1", 2525, false, "[mx.example]:2525", "mx.example"};
    SessionResume r;
    r.features.flags = smtp::kFeaturePipelining | smtp::kFeatureSize;
    r.features.xforward = 3;
    r.features.size_limit = 10240000;
    r.expire_time = 1234567890;
    r.reuse_count = 4;
    std::string prop = encode_session(peer, r);
    auto back = decode_session(ipc::UniqueFd(::dup(1)), prop);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->peer.name, "mx.example");
    EXPECT_EQ(back->peer.addr, "192.0.2.1");
    EXPECT_EQ(back->peer.port, 2525u);
    EXPECT_EQ(back->peer.nexthop, "[mx.example]:2525");
    EXPECT_EQ(back->peer.nexthop_domain, "mx.example");
    EXPECT_EQ(back->resume.features.flags, r.features.flags);
    EXPECT_EQ(back->resume.features.xforward, 3u);
    EXPECT_EQ(back->resume.features.size_limit, 10240000u);
    EXPECT_EQ(back->resume.expire_time, 1234567890);
    EXPECT_EQ(back->resume.reuse_count, 4);
    EXPECT_FALSE(decode_session(ipc::UniqueFd(::dup(1)), "garbage"));
    EXPECT_FALSE(decode_session(ipc::UniqueFd(::dup(1)), prop + "\nextra"));
}

TEST(SmtpCache, PolicyFromDestinationsOrRequestFlags) {
    SmtpCacheSettings c;
    c.transport = "smtp";
    c.open_client("/nonexistent");
    ipc::DeliveryRequest req;
    req.nexthop = "example.com";
    auto p = cache_policy(c, req, "example.com", "");
    EXPECT_FALSE(p.load);
    EXPECT_FALSE(p.store);
    EXPECT_TRUE(p.dest_label.empty());
    req.flags |= ipc::kDeliveryConnLoad;
    p = cache_policy(c, req, "example.com", "");
    EXPECT_TRUE(p.load);
    EXPECT_FALSE(p.store);
    EXPECT_FALSE(p.dest_label.empty());
    c.on_demand = false;
    p = cache_policy(c, req, "example.com", "");
    EXPECT_FALSE(p.load);
}

}  // namespace
}  // namespace pf::smtp_agent
