// Unit tests of the SMTP client's protocol pieces: reply collection
// (multi-line, enhanced status codes, class mismatch), EHLO keywords and
// next-hop parsing.
#include "smtp/smtp_client_dest.h"
#include "smtp/smtp_client_reply.h"

#include <gtest/gtest.h>

namespace pf::smtp {
namespace {

ClientReply parse(std::initializer_list<std::string_view> lines) {
    ClientReplyBuilder b;
    for (auto l : lines) b.add_line(l);
    return b.finish();
}

TEST(SmtpClientReply, SingleLineWithStatus) {
    auto r = parse({"550 5.1.1 <bob@x>: User unknown"});
    EXPECT_EQ(r.code, 550);
    EXPECT_EQ(r.dsn, "5.1.1");
    EXPECT_EQ(r.one_line(), "550 5.1.1 <bob@x>: User unknown");
}

TEST(SmtpClientReply, MultiLineJoined) {
    ClientReplyBuilder b;
    EXPECT_FALSE(b.add_line("550-5.1.1 first"));
    EXPECT_TRUE(b.add_line("550 5.1.1 second"));
    auto r = b.finish();
    EXPECT_EQ(r.text, "550-5.1.1 first\n550 5.1.1 second");
    EXPECT_EQ(r.one_line(), "550-5.1.1 first 550 5.1.1 second");
}

TEST(SmtpClientReply, StatusFromCodeWhenMissingOrMismatched) {
    EXPECT_EQ(parse({"550 no such user"}).dsn, "5.0.0");
    EXPECT_EQ(parse({"550 4.1.1 mixed"}).dsn, "5.0.0");
    EXPECT_EQ(parse({"421 busy"}).dsn, "4.0.0");
    EXPECT_EQ(parse({"250 2.0.0 Ok"}).dsn, "2.0.0");
}

TEST(SmtpClientReply, GarbageLinesKeptUntilFinalLine) {
    ClientReplyBuilder b;
    EXPECT_FALSE(b.add_line("hello"));
    EXPECT_FALSE(b.add_line("25"));
    EXPECT_TRUE(b.add_line("250 ok"));
    auto r = b.finish();
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(r.text, "hello\n25\n250 ok");
}

TEST(SmtpClientReply, UnprintableBytesReplaced) {
    auto r = parse({std::string_view("550 bad\x01\x7f", 9)});
    EXPECT_EQ(r.text, "550 bad??");
}

TEST(SmtpClientReply, EhloKeywords) {
    auto f = parse_ehlo_features("250-mx.example\n250-PIPELINING\n250-SIZE 1000\n250-8BITMIME\n250-dsn\n"
                                 "250-AUTH PLAIN LOGIN\n250 SMTPUTF8");
    EXPECT_TRUE(f.flags & kFeaturePipelining);
    EXPECT_TRUE(f.flags & kFeatureSize);
    EXPECT_EQ(f.size_limit, 1000u);
    EXPECT_TRUE(f.flags & kFeature8BitMime);
    EXPECT_TRUE(f.flags & kFeatureDsn);
    EXPECT_TRUE(f.flags & kFeatureSmtpUtf8);
    EXPECT_TRUE(f.flags & kFeatureAuth);
    EXPECT_EQ(f.auth_mechanisms, "PLAIN LOGIN");
    EXPECT_FALSE(f.flags & kFeatureStartTls);
    // The greeting line is not a keyword.
    EXPECT_FALSE(parse_ehlo_features("250 PIPELINING").flags & kFeaturePipelining);
    // A SIZE too large to count is no limit.
    EXPECT_EQ(parse_ehlo_features("250-x\n250 SIZE 99999999999999999999999").size_limit, 0u);
}

TEST(SmtpClientDest, Forms) {
    auto a = parse_client_destination("[127.0.0.1]:2525", "smtp", false);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 2525u);
    EXPECT_FALSE(a->mx_lookup);
    auto b = parse_client_destination("example.com", "smtp", false);
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->mx_lookup);
    EXPECT_EQ(b->port, 25u);
    auto c = parse_client_destination("example.com:587", "smtp", false);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host, "example.com");
    EXPECT_EQ(c->port, 587u);
    EXPECT_TRUE(c->mx_lookup);
    auto d = parse_client_destination("inet:localhost:24", "24", true);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->host, "localhost");
    EXPECT_FALSE(d->mx_lookup);
    auto e = parse_client_destination("unix:/run/lmtp", "24", true);
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->unix_socket);
    EXPECT_EQ(e->host, "/run/lmtp");
    auto f = parse_client_destination("[::1]:25", "smtp", false);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->host, "::1");
    auto g = parse_client_destination("lmtp.example", "24", true);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->port, 24u);
    EXPECT_FALSE(g->mx_lookup);
}

TEST(SmtpClientDest, BadForms) {
    EXPECT_FALSE(parse_client_destination("[127.0.0.1", "smtp", false));
    EXPECT_FALSE(parse_client_destination("[127.0.0.1]x", "smtp", false));
    EXPECT_FALSE(parse_client_destination("host:99999", "smtp", false));
    EXPECT_FALSE(parse_client_destination("host:nosuchservice-xyz", "smtp", false));
    EXPECT_FALSE(parse_client_destination(":25", "smtp", false));
    EXPECT_FALSE(parse_client_destination("unix:", "24", true));
}

TEST(SmtpClientDest, LiteralAddressLookup) {
    auto d = parse_client_destination("[127.0.0.1]:2525", "smtp", false);
    ASSERT_TRUE(d);
    auto r = lookup_server_addresses(*d, true, true);
    ASSERT_TRUE(r.ok);
    ASSERT_EQ(r.addresses.size(), 1u);
    EXPECT_EQ(r.addresses[0].addr_text, "127.0.0.1");
    EXPECT_EQ(r.addresses[0].hostname, "127.0.0.1");
}

}  // namespace
}  // namespace pf::smtp
