// Unit tests of one SMTP/LMTP conversation (SmtpSession) against a
// scripted peer on a socketpair: what the client sends, in order, and the
// events it reports with the reference's texts.
#include "daemon/smtp/smtp_session.h"
#include "daemon/smtp/smtp_settings.h"
#include "smtp_peer_fixture.h"

#include "config/config.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <string>
#include <thread>

namespace pf::smtp_agent {
namespace {

using Peer = ScriptedPeer;

struct Run {
    SessionResult result;
    std::string received;
};

Run converse(Peer peer, const SmtpSettings& settings, SessionMessage msg) {
    Run out;
    converse_with(peer, [&](int fd) {
        SessionPeer sp{"mx.example", "192.0.2.1", 25, false};
        SmtpSession session(settings, sp, fd);
        out.result = session.deliver(msg);
    });
    out.received = peer.received;
    return out;
}

SessionMessage message(std::vector<std::string> rcpts) {
    SessionMessage m;
    m.sender = "sender@example.com";
    m.size = 20;
    for (auto& r : rcpts) m.recipients.push_back({r, "rfc822;" + r, 0});
    m.write_content = [](smtp::SmtpStream& s) {
        s.write("Subject: x\r\n\r\n..dot\r\n");
        return s.flush().has_value();
    };
    return m;
}

TEST(SmtpSession, PipelinedDeliveryWithDsn) {
    auto m = message({"a@x.test", "b@x.test"});
    m.recipients[0].dsn_notify = 2 | 4;  // SUCCESS, FAILURE
    auto run = converse(Peer{}, test_settings(), m);
    EXPECT_EQ(run.received,
              "EHLO client.example\r\n"
              "MAIL FROM:<sender@example.com> SIZE=20\r\n"
              "RCPT TO:<a@x.test> ORCPT=rfc822;a@x.test NOTIFY=SUCCESS,FAILURE\r\n"
              "RCPT TO:<b@x.test> ORCPT=rfc822;b@x.test\r\n"
              "DATA\r\n"
              "Subject: x\r\n\r\n..dot\r\n.\r\n"
              "QUIT\r\n");
    ASSERT_EQ(run.result.events.size(), 2u);
    EXPECT_TRUE(run.result.events[0].ok);
    EXPECT_EQ(run.result.events[0].dsn.reason, "250 2.0.0 queued");
    EXPECT_EQ(run.result.events[1].rcpt, 1);
}

TEST(SmtpSession, RecipientRejected) {
    Peer p;
    p.replies["RCPT:b"] = "550 5.1.1 unknown";
    auto run = converse(p, test_settings(), message({"a@x.test", "b@x.test"}));
    ASSERT_EQ(run.result.events.size(), 2u);
    EXPECT_EQ(run.result.events[0].rcpt, 1);
    EXPECT_FALSE(run.result.events[0].ok);
    EXPECT_EQ(run.result.events[0].dsn.status, "5.1.1");
    EXPECT_EQ(run.result.events[0].dsn.reason,
              "host mx.example[192.0.2.1] said: 550 5.1.1 unknown (in reply to RCPT TO command)");
    EXPECT_TRUE(run.result.events[1].ok);
}

TEST(SmtpSession, MailRejectedSendsRset) {
    Peer p;
    p.ehlo = "250-test\r\n250 8BITMIME";
    p.replies["MAIL"] = "553 5.1.8 bad sender";
    auto run = converse(p, test_settings(), message({"a@x.test"}));
    EXPECT_EQ(run.received, "EHLO client.example\r\nMAIL FROM:<sender@example.com>\r\nRSET\r\nQUIT\r\n");
    ASSERT_EQ(run.result.events.size(), 1u);
    EXPECT_EQ(run.result.events[0].dsn.reason,
              "host mx.example[192.0.2.1] said: 553 5.1.8 bad sender (in reply to MAIL FROM command)");
}

TEST(SmtpSession, GreetingRefusedSkip5xx) {
    Peer p;
    p.greeting = "554 5.3.2 go away";
    auto run = converse(p, test_settings(), message({"a@x.test"}));
    ASSERT_EQ(run.result.events.size(), 1u);
    EXPECT_EQ(run.result.events[0].rcpt, -1);
    EXPECT_EQ(run.result.events[0].dsn.status, "4.3.2");
    EXPECT_EQ(run.result.events[0].dsn.reason, "host mx.example[192.0.2.1] refused to talk to me: 554 5.3.2 go away");
    EXPECT_EQ(run.received, "QUIT\r\n");
    auto s = test_settings();
    s.skip_5xx_greeting = false;
    EXPECT_EQ(converse(p, s, message({"a@x.test"})).result.events[0].dsn.status, "5.3.2");
}

TEST(SmtpSession, LostConnectionAtGreeting) {
    Peer p;
    p.greeting = "220-first line only";
    p.close_after_greeting = true;
    auto run = converse(p, test_settings(), message({"a@x.test"}));
    ASSERT_EQ(run.result.events.size(), 1u);
    EXPECT_EQ(run.result.events[0].dsn.status, "4.4.2");
    EXPECT_EQ(run.result.events[0].dsn.reason,
              "lost connection with mx.example[192.0.2.1] while receiving the initial server greeting");
}

TEST(SmtpSession, EhloRefusedFallsBackToHelo) {
    Peer p;
    p.replies["EHLO"] = "502 5.5.2 what";
    auto run = converse(p, test_settings(), message({"a@x.test"}));
    EXPECT_EQ(run.received.substr(0, 47), "EHLO client.example\r\nHELO client.example\r\nMAIL ");
    ASSERT_EQ(run.result.events.size(), 1u);
    EXPECT_TRUE(run.result.events[0].ok);
}

TEST(SmtpSession, SizeLimitBouncesWithoutMail) {
    auto m = message({"a@x.test"});
    m.size = 5000;
    auto run = converse(Peer{}, test_settings(), m);
    EXPECT_EQ(run.received, "EHLO client.example\r\n");
    ASSERT_EQ(run.result.events.size(), 1u);
    EXPECT_EQ(run.result.events[0].dsn.status, "5.3.4");
    EXPECT_EQ(run.result.events[0].dsn.reason,
              "message size 5000 exceeds size limit 1000 of server mx.example[192.0.2.1]");
}

TEST(SmtpSession, LmtpOneReplyPerRecipient) {
    // The peer answers the dot once per line it is asked: LMTP wants two.
    Peer p;
    p.ehlo = "250-test\r\n250 PIPELINING";
    p.dot = "250 2.0.0 a ok\r\n452 4.2.2 b full";
    auto s = test_settings();
    s.lmtp = true;
    auto run = converse(p, s, message({"a@x.test", "b@x.test"}));
    EXPECT_EQ(run.received.substr(0, 20), "LHLO client.example\r");
    ASSERT_EQ(run.result.events.size(), 2u);
    EXPECT_TRUE(run.result.events[0].ok);
    EXPECT_FALSE(run.result.events[1].ok);
    EXPECT_EQ(run.result.events[1].dsn.status, "4.2.2");
    EXPECT_EQ(run.result.events[1].dsn.reason,
              "host mx.example[192.0.2.1] said: 452 4.2.2 b full (in reply to end of DATA command)");
}

TEST(SmtpSettings, LmtpFamilyAndOverrides) {
    config::Config c("/nonexistent-pf-smtp-test");
    c.set_override("smtp_fallback_relay", "[127.0.0.1]:2526, backup.example");
    c.set_override("smtp_helo_timeout", "7s");
    c.set_override("myhostname", "host.example");
    auto s = SmtpSettings::from_config(c, false);
    EXPECT_EQ(s.helo_timeout, 7);
    EXPECT_EQ(s.helo_name, "host.example");
    ASSERT_EQ(s.fallback_relays.size(), 2u);
    EXPECT_EQ(s.fallback_relays[0], "[127.0.0.1]:2526");
    auto l = SmtpSettings::from_config(c, true);
    EXPECT_TRUE(l.lmtp);
    EXPECT_EQ(l.default_port, "24");
    EXPECT_TRUE(l.fallback_relays.empty());
}

TEST(SmtpSession, XforwardInTwoCommandsBeforeMail) {
    Peer p;
    p.ehlo = "250-test\r\n250-PIPELINING\r\n250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT\r\n250 8BITMIME";
    auto s = test_settings();
    s.send_xforward = true;
    auto m = message({"a@x.test"});
    m.xforward = {"client.example", "192.0.2.7", "4711", "ESMTP", "helo name+x", "4ABC", "REMOTE"};
    auto run = converse(p, s, m);
    EXPECT_EQ(run.received.substr(0, run.received.find("MAIL")),
              "EHLO client.example\r\n"
              "XFORWARD NAME=client.example ADDR=192.0.2.7 PORT=4711\r\n"
              "XFORWARD PROTO=ESMTP HELO=helo+20name+2Bx IDENT=4ABC SOURCE=REMOTE\r\n");
    ASSERT_EQ(run.result.events.size(), 1u);
    EXPECT_TRUE(run.result.events[0].ok);
}

TEST(SmtpSession, XforwardOnlyWhatIsKnownAndOffered) {
    Peer p;
    p.ehlo = "250-test\r\n250 xforward name addr source";
    auto s = test_settings();
    s.send_xforward = true;
    auto m = message({"a@x.test"});
    m.xforward = {"unknown", "192.0.2.7", "", "", "", "", "LOCAL"};
    auto run = converse(p, s, m);
    EXPECT_EQ(run.received.substr(0, run.received.find("MAIL")),
              "EHLO client.example\r\nXFORWARD ADDR=192.0.2.7\r\nXFORWARD SOURCE=LOCAL\r\n");
    // Not enabled: nothing.
    s.send_xforward = false;
    run = converse(p, s, m);
    EXPECT_EQ(run.received.find("XFORWARD"), std::string::npos);
}

TEST(SmtpSession, XforwardRefusedIsNotFatal) {
    Peer p;
    p.ehlo = "250-test\r\n250 XFORWARD SOURCE";
    p.replies["XFOR"] = "550 5.7.0 Error: insufficient authorization";
    auto s = test_settings();
    s.send_xforward = true;
    auto m = message({"a@x.test"});
    m.xforward.source = "LOCAL";
    auto run = converse(p, s, m);
    ASSERT_EQ(run.result.events.size(), 1u);
    EXPECT_TRUE(run.result.events[0].ok);
}

// An address probe: MAIL and RCPT, then RSET and QUIT, no DATA; an
// accepted recipient is reported with its RCPT reply.
TEST(SmtpSession, TraceOnlyProbeStopsAfterRcpt) {
    Peer p;
    p.replies["RCPT:b"] = "550 5.1.1 unknown";
    auto m = message({"a@x.test", "b@x.test"});
    m.trace_only = true;
    auto run = converse(p, test_settings(), m);
    EXPECT_EQ(run.received,
              "EHLO client.example\r\n"
              "MAIL FROM:<sender@example.com> SIZE=20\r\n"
              "RCPT TO:<a@x.test> ORCPT=rfc822;a@x.test\r\n"
              "RCPT TO:<b@x.test> ORCPT=rfc822;b@x.test\r\n"
              "RSET\r\n"
              "QUIT\r\n");
    ASSERT_EQ(run.result.events.size(), 2u);
    EXPECT_EQ(run.result.events[0].rcpt, 0);
    EXPECT_TRUE(run.result.events[0].ok);
    EXPECT_EQ(run.result.events[0].dsn.reason, "250 2.1.5 Ok");
    EXPECT_EQ(run.result.events[1].rcpt, 1);
    EXPECT_FALSE(run.result.events[1].ok);
    EXPECT_FALSE(run.result.retry_plaintext);
}

}  // namespace
}  // namespace pf::smtp_agent
