// smtp/lmtp master.cf arguments (daemon/smtp/smtp_cli_attr.h): flags=DORX
// accepted in any case of "flags=", the last word winning; other words and
// letters refused with the reference's texts; lmtp_assume_final.
#include "daemon/smtp/smtp_cli_attr.h"

#include <gtest/gtest.h>

namespace pf::smtp_agent {
namespace {

TEST(SmtpCliAttr, Flags) {
    auto none = parse_cli_attr({}, false, false);
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(none->flags, 0u);
    auto all = parse_cli_attr({"FLAGS=DORX"}, false, false);
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(all->flags, kCliDeliveredTo | kCliOrigRcpt | kCliReturnPath | kCliFinalDelivery);
    auto last = parse_cli_attr({"flags=DO", "flags=R"}, false, false);
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->flags, unsigned{kCliReturnPath});
    auto empty = parse_cli_attr({"flags="}, false, false);
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->flags, 0u);
}

TEST(SmtpCliAttr, Refused) {
    auto word = parse_cli_attr({"bogus"}, false, false);
    ASSERT_FALSE(word.has_value());
    EXPECT_EQ(word.error(), "unknown attribute name: bogus");
    auto letter = parse_cli_attr({"flags=Rq"}, false, false);
    ASSERT_FALSE(letter.has_value());
    EXPECT_EQ(letter.error(), "unknown flags=Rq value \"q\" in \"Rq\"");
    EXPECT_FALSE(parse_cli_attr({"flags=r"}, false, false).has_value());
}

TEST(SmtpCliAttr, LmtpAssumeFinal) {
    auto smtp = parse_cli_attr({}, false, true);
    ASSERT_TRUE(smtp.has_value());
    EXPECT_EQ(smtp->flags, 0u);
    EXPECT_TRUE(smtp->warning.empty());
    auto lmtp = parse_cli_attr({"flags=R"}, true, true);
    ASSERT_TRUE(lmtp.has_value());
    EXPECT_EQ(lmtp->flags, kCliReturnPath | kCliFinalDelivery);
    EXPECT_EQ(lmtp->warning, "lmtp_assume_final is obsolete; instead, specify \"flags=RX\" in master.cf");
    auto already = parse_cli_attr({"flags=X"}, true, true);
    ASSERT_TRUE(already.has_value());
    EXPECT_TRUE(already->warning.empty());
}

}  // namespace
}  // namespace pf::smtp_agent
