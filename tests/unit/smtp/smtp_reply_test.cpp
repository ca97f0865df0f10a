// Unit tests of smtp/smtp_reply: single and multi-line reply formatting,
// enhanced status code recognition and reply-line parsing.
#include "smtp/smtp_reply.h"

#include <gtest/gtest.h>

namespace pf::smtp {
namespace {

TEST(SmtpReply, Format) {
    EXPECT_EQ(format_reply(250, "2.0.0", "Ok"), "250 2.0.0 Ok\r\n");
    EXPECT_EQ(format_reply(501, "", "Syntax: EHLO hostname"), "501 Syntax: EHLO hostname\r\n");
    EXPECT_EQ(format_reply(250, std::vector<std::string>{"mail.example.com", "PIPELINING", "CHUNKING"}),
              "250-mail.example.com\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
}

TEST(SmtpReply, EnhancedStatus) {
    EXPECT_EQ(enhanced_status_length("5.7.1 Relay access denied"), 5u);
    EXPECT_EQ(enhanced_status_length("2.0.0"), 5u);
    EXPECT_EQ(enhanced_status_length("4.123.456 x"), 9u);
    EXPECT_EQ(enhanced_status_length("3.0.0 x"), 0u);
    EXPECT_EQ(enhanced_status_length("5.7.1x"), 0u);
    EXPECT_EQ(enhanced_status_length("Error"), 0u);
}

TEST(SmtpReply, Parse) {
    auto r = parse_reply_line("250-PIPELINING");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->code, 250);
    EXPECT_FALSE(r->last);
    EXPECT_EQ(r->text, "PIPELINING");
    auto last = parse_reply_line("221 2.0.0 Bye");
    EXPECT_TRUE(last->last);
    EXPECT_TRUE(parse_reply_line("354"));
    EXPECT_FALSE(parse_reply_line("25"));
    EXPECT_FALSE(parse_reply_line("2x0 ok"));
    EXPECT_FALSE(parse_reply_line("250+x"));
}

}  // namespace
}  // namespace pf::smtp
