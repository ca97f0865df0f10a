// Unit tests of sasl/dovecot_protocol: the handshake parser (version
// checks, MECH properties, hostile lines), the AUTH/CONT request format
// the reference sends, the answer parser (ids, user=, reason=, temp,
// garbage) and the base64 character check.
#include "sasl/dovecot_protocol.h"

#include <gtest/gtest.h>

namespace pf::sasl::dovecot {
namespace {

TEST(DovecotHandshake, Normal) {
    Handshake h;
    EXPECT_EQ(h.feed("VERSION\t1\t2"), Handshake::State::more);
    EXPECT_EQ(h.feed("MECH\tPLAIN\tplaintext"), Handshake::State::more);
    EXPECT_EQ(h.feed("MECH\tLOGIN\tplaintext"), Handshake::State::more);
    EXPECT_EQ(h.feed("MECH\tCRAM-MD5\tdictionary\tactive"), Handshake::State::more);
    EXPECT_EQ(h.feed("MECH\tGSSAPI\tmutual-auth"), Handshake::State::more);
    EXPECT_EQ(h.feed("SPID\t123"), Handshake::State::more);
    EXPECT_EQ(h.feed("CUID\t1"), Handshake::State::more);
    EXPECT_EQ(h.feed("COOKIE\tabc"), Handshake::State::more);
    EXPECT_EQ(h.feed("SOMETHING-NEW\tx"), Handshake::State::more);
    EXPECT_EQ(h.feed("DONE"), Handshake::State::done);
    ASSERT_EQ(h.mechanisms().size(), 4u);
    EXPECT_EQ(mechanism_list(h.mechanisms(), 0), "PLAIN LOGIN CRAM-MD5 GSSAPI");
    EXPECT_EQ(mechanism_list(h.mechanisms(), kNoPlaintext | kNoAnonymous), "CRAM-MD5 GSSAPI");
    EXPECT_EQ(mechanism_list(h.mechanisms(), kNoDictionary), "PLAIN LOGIN GSSAPI");
    EXPECT_EQ(mechanism_list(h.mechanisms(), kMutualAuth), "GSSAPI");
}

TEST(DovecotHandshake, VersionErrors) {
    Handshake a;
    EXPECT_EQ(a.feed("VERSION\t2\t0"), Handshake::State::error);
    EXPECT_EQ(a.error(), "Protocol version mismatch (2 vs. 1)");
    Handshake b;
    EXPECT_EQ(b.feed("VERSION\tx\t0"), Handshake::State::error);
    EXPECT_EQ(b.error(), "Protocol version error");
    Handshake c;
    EXPECT_EQ(c.feed("VERSION"), Handshake::State::error);
    Handshake d;
    EXPECT_EQ(d.feed("VERSION\t99999999999999999999\t0"), Handshake::State::error);
    Handshake e;   // DONE without VERSION
    EXPECT_EQ(e.feed("DONE"), Handshake::State::error);
}

TEST(DovecotHandshake, HostileLines) {
    Handshake h;
    EXPECT_EQ(h.feed(""), Handshake::State::more);
    EXPECT_EQ(h.feed("\t\t\t"), Handshake::State::more);
    EXPECT_EQ(h.feed("MECH"), Handshake::State::more);
    EXPECT_EQ(h.feed("MECH\t"), Handshake::State::more);   // empty name: dropped
    EXPECT_EQ(h.feed(std::string("MECH\tX\x01Y\n\tplaintext", 19)), Handshake::State::more);
    EXPECT_EQ(h.feed(std::string(100000, 'A')), Handshake::State::more);
    EXPECT_EQ(h.feed("VERSION\t1\t0"), Handshake::State::more);
    EXPECT_EQ(h.feed("DONE"), Handshake::State::done);
    ASSERT_EQ(h.mechanisms().size(), 1u);
    EXPECT_EQ(h.mechanisms()[0].name, "X?Y?");   // made printable
}

TEST(DovecotRequests, Format) {
    EXPECT_EQ(client_handshake(42), "VERSION\t1\t0\nCPID\t42\n");
    AuthRequest r;
    r.id = 7;
    r.mechanism = "PLAIN";
    r.service = "smtp";
    r.local_ip = "127.0.0.1";
    r.remote_ip = "10.0.0.1";
    EXPECT_EQ(auth_request(r), "AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=10.0.0.1\n");
    r.secured = true;
    r.initial = "AGEAYg==";
    EXPECT_EQ(auth_request(r),
              "AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=10.0.0.1\tsecured\tresp=AGEAYg==\n");
    EXPECT_EQ(cont_request(7, "YWxpY2U="), "CONT\t7\tYWxpY2U=\n");
}

TEST(DovecotAnswers, Parse) {
    auto ok = parse_answer("OK\t3\tuser=alice\tsomething");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->kind, Answer::Kind::ok);
    EXPECT_EQ(ok->id, 3u);
    EXPECT_EQ(ok->user, "alice");
    auto cont = parse_answer("CONT\t4\tVXNlcm5hbWU6");
    ASSERT_TRUE(cont);
    EXPECT_EQ(cont->kind, Answer::Kind::cont);
    EXPECT_EQ(cont->data, "VXNlcm5hbWU6");
    auto empty_cont = parse_answer("CONT\t4\t");
    ASSERT_TRUE(empty_cont);
    EXPECT_EQ(empty_cont->data, "");
    auto fail = parse_answer("FAIL\t5\tuser=bob\ttemp\treason=Backend\x01" "down");
    ASSERT_TRUE(fail);
    EXPECT_EQ(fail->kind, Answer::Kind::fail);
    EXPECT_EQ(fail->user, "bob");
    EXPECT_EQ(fail->reason, "Backend?down");
    EXPECT_TRUE(fail->temp);
    auto bare_fail = parse_answer("FAIL\t6");
    ASSERT_TRUE(bare_fail);
    EXPECT_FALSE(bare_fail->reason);
    EXPECT_FALSE(bare_fail->user);
}

TEST(DovecotAnswers, Garbage) {
    EXPECT_FALSE(parse_answer(""));
    EXPECT_FALSE(parse_answer("OK"));
    EXPECT_FALSE(parse_answer("OK\t"));
    EXPECT_FALSE(parse_answer("OK\tx"));
    EXPECT_FALSE(parse_answer("OK\t-1"));
    EXPECT_FALSE(parse_answer("OK\t1x\tuser=a"));
    EXPECT_FALSE(parse_answer("OK\t99999999999\tuser=a"));
    EXPECT_FALSE(parse_answer("DONE\t1"));
    EXPECT_FALSE(parse_answer("ok\t1\tuser=a"));
    std::string huge = "FAIL\t1\treason=" + std::string(200000, 'x');
    auto big = parse_answer(huge);
    ASSERT_TRUE(big);
    EXPECT_EQ(big->reason->size(), 200000u);
}

TEST(DovecotBase64, Characters) {
    EXPECT_TRUE(base64_chars_only(""));
    EXPECT_TRUE(base64_chars_only("AGFsaWNlAHNlY3JldA=="));
    EXPECT_TRUE(base64_chars_only("abc"));   // only the alphabet is checked
    EXPECT_FALSE(base64_chars_only("!!!"));
    EXPECT_FALSE(base64_chars_only("AGFs aWNl"));
    EXPECT_FALSE(base64_chars_only("AGFs\taWNl"));
    EXPECT_FALSE(base64_chars_only(std::string("A\0B", 3)));
    EXPECT_FALSE(base64_chars_only("\xc3\xa9"));
}

TEST(DovecotSecurityOptions, Words) {
    auto o = security_options("noanonymous, noplaintext");
    EXPECT_EQ(o.bits, kNoAnonymous | kNoPlaintext);
    EXPECT_TRUE(o.bad_word.empty());
    auto bad = security_options("noanonymous bogus");
    EXPECT_EQ(bad.bad_word, "bogus");
    EXPECT_EQ(security_options("").bits, 0u);
    EXPECT_EQ(security_options("MUTUAL_AUTH").bits, kMutualAuth);
}

}  // namespace
}  // namespace pf::sasl::dovecot
