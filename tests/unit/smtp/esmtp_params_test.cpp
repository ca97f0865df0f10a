// Unit tests of smtp/esmtp_params and smtp/xtext: the DSN value syntaxes,
// SIZE digits, xtext decoding strictness and encoding.
#include "smtp/esmtp_params.h"
#include "smtp/xtext.h"

#include <gtest/gtest.h>

namespace pf::smtp {
namespace {

TEST(EsmtpParams, Split) {
    auto p = parse_esmtp_param("SIZE=100");
    EXPECT_EQ(p.keyword, "SIZE");
    EXPECT_EQ(p.value, "100");
    EXPECT_TRUE(p.has_value);
    auto q = parse_esmtp_param("SMTPUTF8");
    EXPECT_EQ(q.keyword, "SMTPUTF8");
    EXPECT_FALSE(q.has_value);
    auto r = parse_esmtp_param("ENVID=");
    EXPECT_TRUE(r.has_value);
    EXPECT_EQ(r.value, "");
}

TEST(EsmtpParams, Notify) {
    EXPECT_EQ(parse_dsn_notify("NEVER"), kNotifyNever);
    EXPECT_EQ(parse_dsn_notify("success,Delay"), kNotifySuccess | kNotifyDelay);
    EXPECT_EQ(parse_dsn_notify("SUCCESS,FAILURE,DELAY"), kNotifySuccess | kNotifyFailure | kNotifyDelay);
    EXPECT_FALSE(parse_dsn_notify("NEVER,SUCCESS"));
    EXPECT_FALSE(parse_dsn_notify("BOGUS"));
    EXPECT_FALSE(parse_dsn_notify(""));
    EXPECT_FALSE(parse_dsn_notify("SUCCESS,"));
}

TEST(EsmtpParams, RetAndSize) {
    EXPECT_EQ(parse_dsn_ret("full"), kRetFull);
    EXPECT_EQ(parse_dsn_ret("HDRS"), kRetHdrs);
    EXPECT_FALSE(parse_dsn_ret("BOTH"));
    EXPECT_EQ(parse_size("10240000"), 10240000u);
    EXPECT_FALSE(parse_size(""));
    EXPECT_FALSE(parse_size("12a"));
    EXPECT_FALSE(parse_size("-1"));
    EXPECT_FALSE(parse_size("99999999999999999999999"));
}

TEST(Xtext, Decode) {
    EXPECT_EQ(xtext_decode("abc+2Bdef"), "abc+def");
    EXPECT_EQ(xtext_decode("orig+40example.net"), "orig@example.net");
    EXPECT_EQ(xtext_decode(""), "");
    EXPECT_FALSE(xtext_decode("bad+zz"));
    EXPECT_FALSE(xtext_decode("trail+4"));
    EXPECT_FALSE(xtext_decode("sp ace"));
    EXPECT_FALSE(xtext_decode("a=b"));
    EXPECT_FALSE(xtext_decode("caf\xc3\xa9"));
}

TEST(Xtext, EncodeRoundTrip) {
    std::string raw = "a+b=c d\x01\xff";
    std::string enc = xtext_encode(raw);
    EXPECT_EQ(enc, "a+2Bb+3Dc+20d+01+FF");
    EXPECT_EQ(xtext_decode(enc), raw);
}

}  // namespace
}  // namespace pf::smtp

namespace pf::smtp {
namespace {

// XCLIENT/XFORWARD values: "+HH" decoded, any other byte kept; a '+'
// without two hex digits makes the whole value undecodable.
TEST(XtextLenient, DecodesHexAndKeepsOtherBytes) {
    EXPECT_EQ(xtext_decode_lenient("a+2Eb c=d"), std::optional<std::string>("a.b c=d"));
    EXPECT_EQ(xtext_decode_lenient("+41+6a"), std::optional<std::string>("Aj"));
    EXPECT_EQ(xtext_decode_lenient(""), std::optional<std::string>(""));
    EXPECT_FALSE(xtext_decode_lenient("he+llo").has_value());
    EXPECT_FALSE(xtext_decode_lenient("end+").has_value());
    EXPECT_FALSE(xtext_decode_lenient("end+4").has_value());
}

}  // namespace
}  // namespace pf::smtp
