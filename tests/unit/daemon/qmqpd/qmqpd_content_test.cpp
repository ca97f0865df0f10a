// qmqpd(8): the VERP sender convention, the Received: header and the
// content records, as the reference's qmqpd writes them.
#include "daemon/qmqpd/qmqpd_content.h"

#include <gtest/gtest.h>

namespace {

using namespace pf::qmqpd;
using Records = std::vector<std::pair<char, std::string>>;

TEST(QmqpdVerp, Convention) {
    auto v = parse_verp_sender("list-@example.org-@[]", "-=+");
    EXPECT_TRUE(v.requested);
    EXPECT_EQ(v.sender, "list@example.org");
    EXPECT_EQ(v.delims, "-=");
    EXPECT_TRUE(v.error.empty());

    v = parse_verp_sender("list+@example.org-@[]", "-=+");
    EXPECT_EQ(v.delims, "+=");
    EXPECT_EQ(v.sender, "list@example.org");

    v = parse_verp_sender("list#@example.org-@[]", "-=+");
    EXPECT_TRUE(v.requested);
    EXPECT_EQ(v.error, "Invalid VERP delimiters: \"#=\". Need two characters from \"-=+\"");
}

TEST(QmqpdVerp, NotRequested) {
    for (const char* s : {"", "a@b", "-@[]", "x-@[]", "@x-@[]", "a@-@[]", "ab-@[]x", "a-@b"}) {
        auto v = parse_verp_sender(s, "-=+");
        EXPECT_FALSE(v.requested) << s;
        EXPECT_EQ(v.sender, s);
    }
    // The shortest form: one-character prefix and origin.
    auto v = parse_verp_sender("a-@b-@[]", "-=+");
    EXPECT_TRUE(v.requested);
    EXPECT_EQ(v.sender, "a@b");
}

TEST(QmqpdReceived, OneAndMany) {
    ReceivedInfo info;
    info.client_name = "localhost";
    info.client_rfc_addr = "127.0.0.1";
    info.myhostname = "mail.example.com";
    info.mail_name = "Postfix";
    info.queue_id = "4ABC";
    info.arrival = 0;
    auto one = received_header(info, 1, "a b@example.com");
    ASSERT_EQ(one.size(), 3u);
    EXPECT_EQ(one[0], "Received: from localhost (localhost [127.0.0.1])");
    EXPECT_EQ(one[1], "\tby mail.example.com (Postfix) with QMQP id 4ABC");
    EXPECT_EQ(one[2].rfind("\tfor <\"a b\"@example.com>; ", 0), 0u);
    auto many = received_header(info, 2, "x@y");
    ASSERT_EQ(many.size(), 3u);
    EXPECT_EQ(many[1], "\tby mail.example.com (Postfix) with QMQP");
    EXPECT_EQ(many[2].rfind("\tid 4ABC; ", 0), 0u);
}

TEST(QmqpdContent, Lines) {
    EXPECT_EQ(content_records("", 10), Records{});
    EXPECT_EQ(content_records("a\nb\n", 10), (Records{{'N', "a"}, {'N', "b"}}));
    EXPECT_EQ(content_records("a\n\nb", 10), (Records{{'N', "a"}, {'N', ""}, {'L', "b"}}));
    // Long lines: pieces of line_limit bytes continued in 'L' records.
    EXPECT_EQ(content_records("abcdefg\n", 3), (Records{{'L', "abc"}, {'L', "def"}, {'N', "g"}}));
    EXPECT_EQ(content_records("abc\n", 3), (Records{{'N', "abc"}}));
}

TEST(QmqpdContent, FromLinesAndLeadingBlank) {
    EXPECT_EQ(content_records("From a b\n>>From c\nX: y\n", 100),
              (Records{{'N', "X-Mailbox-Line: From a b"}, {'N', "X-Mailbox-Line: >>From c"}, {'N', "X: y"}}));
    EXPECT_EQ(content_records(" folded\nX: y\n", 100), (Records{{'N', ""}, {'N', " folded"}, {'N', "X: y"}}));
    EXPECT_EQ(content_records("X: y\nFrom a\n", 100), (Records{{'N', "X: y"}, {'N', "From a"}}));
    EXPECT_EQ(content_records("\tx", 100), (Records{{'N', ""}, {'L', "\tx"}}));
}

}  // namespace
