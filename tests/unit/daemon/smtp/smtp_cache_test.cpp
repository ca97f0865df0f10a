// Unit tests of the smtp client's connection caching: sessions that end
// without QUIT for the cache, resumed sessions (no greeting or EHLO, an
// RSET probe first), the reuse limits, and the session properties handed
// through scache (daemon/smtp/smtp_cache.h, smtp_session.h).
#include "daemon/smtp/smtp_cache.h"
#include "daemon/smtp/smtp_session.h"
#include "daemon/smtp/smtp_settings.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <string>
#include <thread>

namespace pf::smtp_agent {
namespace {

// A peer that answers every command with 250 (354 to DATA, 221 to QUIT,
// rset to RSET) and records what it read; greets only when asked to.
struct CachePeer {
    bool greet = true;
    std::string rset = "250 2.0.0 Ok";
    bool close_at_once = false;
    std::string received;

    void run(int fd) {
        auto say = [&](const std::string& s) { (void)!::write(fd, (s + "\r\n").data(), s.size() + 2); };
        if (close_at_once) return;
        if (greet) say("220 test ESMTP");
        std::string buf;
        bool in_data = false;
        char c;
        while (::read(fd, &c, 1) == 1) {
            buf += c;
            if (c != '\n') continue;
            received += buf;
            std::string line = buf.substr(0, buf.size() - 2);
            buf.clear();
            if (in_data) {
                if (line == ".") {
                    in_data = false;
                    say("250 2.0.0 queued");
                }
                continue;
            }
            std::string verb = line.substr(0, 4);
            if (verb == "EHLO") say("250-test\r\n250-PIPELINING\r\n250 8BITMIME");
            else if (verb == "DATA") {
                say("354 go");
                in_data = true;
            } else if (verb == "RSET") say(rset);
            else if (verb == "QUIT") {
                say("221 bye");
                return;
            } else say("250 Ok");
        }
    }
};

SmtpSettings test_settings() {
    SmtpSettings s;
    s.helo_name = "client.example";
    s.helo_timeout = s.mail_timeout = s.rcpt_timeout = s.data_init_timeout = s.data_done_timeout = 5;
    s.data_xfer_timeout = s.quit_timeout = s.rset_timeout = 5;
    return s;
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
Outcome converse(CachePeer peer, int mode, long expire_time, int count_limit, int reuse_count = 0) {
    std::signal(SIGPIPE, SIG_IGN);
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    std::thread server([&] {
        peer.run(sv[1]);
        ::close(sv[1]);
    });
    SmtpSettings settings = test_settings();
    SessionPeer sp{"mx.example", "192.0.2.1", 25, false};
    SmtpSession session(settings, sp, sv[0]);
    Outcome out;
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
    ::shutdown(sv[0], SHUT_RDWR);
    server.join();
    ::close(sv[0]);
    out.received = peer.received;
    return out;
}

long now() { return static_cast<long>(std::time(nullptr)); }

TEST(SmtpCache, CachedSessionEndsWithoutQuit) {
    auto o = converse(CachePeer{}, 0, now() + 300, 0);
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
    auto o = converse(CachePeer{}, 0, now() - 1, 0);
    EXPECT_TRUE(o.received.ends_with(".\r\nQUIT\r\n")) << o.received;
    EXPECT_FALSE(o.cacheable);
}

TEST(SmtpCache, ResumedSessionProbesWithRsetAndSkipsEhlo) {
    CachePeer p;
    p.greet = false;
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
    CachePeer p;
    p.greet = false;
    // Reused once before, limit 2: this is the last use.
    auto o = converse(p, 1, now() + 300, 2, 1);
    EXPECT_TRUE(o.received.ends_with(".\r\nQUIT\r\n")) << o.received;
    EXPECT_FALSE(o.cacheable);
}

TEST(SmtpCache, RejectedProbeDropsTheConnectionQuietly) {
    CachePeer p;
    p.greet = false;
    p.rset = "421 4.4.2 go away";
    auto o = converse(p, 2, now() + 300, 0);
    EXPECT_FALSE(o.probe);
    EXPECT_TRUE(o.result.events.empty());
    EXPECT_FALSE(o.cacheable);
}

TEST(SmtpCache, LostConnectionInProbeIsNotReported) {
    CachePeer p;
    p.close_at_once = true;
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
