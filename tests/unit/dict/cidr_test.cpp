// Unit tests for cidr patterns and tables (dict/cidr_match.h,
// dict/dict_cidr.h), with the answers and diagnostics observed from the
// reference's postmap 3.7.11.
#include "dict/cidr_match.h"
#include "dict/dict_cidr.h"

#include "util/msg.h"

#include <gtest/gtest.h>

namespace pf::dict {
namespace {

std::string parse(std::string_view pattern) {
    auto p = parse_cidr_pattern(pattern);
    return p ? "ok/" + std::to_string(p->mask_len) : p.error();
}

TEST(CidrPatternTest, Accepted) {
    EXPECT_EQ(parse("10.0.0.0/8"), "ok/8");
    EXPECT_EQ(parse("10.0.0.1"), "ok/32");
    EXPECT_EQ(parse("[::1]"), "ok/128");
    EXPECT_EQ(parse("[2001:db8::]/32"), "ok/32");
    EXPECT_EQ(parse("[1.2.3.0/24]"), "ok/24");
    EXPECT_EQ(parse("10.0.0.0/08"), "ok/8");
    EXPECT_EQ(parse("12.0.0.0/264"), "ok/8");         // one byte keeps the length
    EXPECT_EQ(parse("12.0.0.0/4294967304"), "ok/8");  // atoi() keeps 32 bits
    EXPECT_EQ(parse("12.0.0.0/2147483656"), "ok/8");
    EXPECT_EQ(parse("2001:db8::/288"), "ok/32");
}

TEST(CidrPatternTest, Refused) {
    EXPECT_EQ(parse("10.0.0.1/8"), "non-null host address bits in \"10.0.0.1/8\", perhaps you should use \"10.0.0.0/8\" instead");
    EXPECT_EQ(parse("2001:DB8:0:0:1::/64"),
              "non-null host address bits in \"2001:DB8:0:0:1::/64\", perhaps you should use \"2001:db8::/64\" instead");
    EXPECT_EQ(parse("12.0.0.0/4294967296"),
              "non-null host address bits in \"12.0.0.0/4294967296\", perhaps you should use \"0.0.0.0/0\" instead");
    EXPECT_EQ(parse("10.0.0.0/33"), "bad mask length in \"10.0.0.0/33\"");
    EXPECT_EQ(parse("300.0.0.0/33"), "bad mask length in \"300.0.0.0/33\"");
    EXPECT_EQ(parse("12.0.0.0/99999999999999999999"), "bad mask length in \"12.0.0.0/99999999999999999999\"");
    EXPECT_EQ(parse("300.0.0.0/x"), "bad mask value in \"300.0.0.0/x\"");
    EXPECT_EQ(parse("10.0.0.0/"), "bad mask value in \"10.0.0.0/\"");
    EXPECT_EQ(parse("[::3]/"), "bad mask value in \"::3/\"");
    EXPECT_EQ(parse("300.0.0.0/8"), "bad network value in \"300.0.0.0/8\"");
    EXPECT_EQ(parse("/8"), "bad network value in \"/8\"");
    EXPECT_EQ(parse("300.1.1.1"), "bad address pattern: \"300.1.1.1\"");
    EXPECT_EQ(parse("[]"), "bad address pattern: \"\"");
    EXPECT_EQ(parse("[::1"), "missing ']' character after \"[::1\"");
    EXPECT_EQ(parse("[::2]x"), "garbage after \"[::2]\"");
    EXPECT_EQ(parse("[[1.2.3.0]]"), "garbage after \"[[1.2.3.0]\"");
}

TEST(CidrPatternTest, Matching) {
    auto net = parse_cidr_pattern("10.0.0.0/9");
    ASSERT_TRUE(net);
    auto in = parse_cidr_address("10.127.255.255");
    auto out = parse_cidr_address("10.128.0.0");
    ASSERT_TRUE(in && out);
    EXPECT_TRUE(cidr_matches(*net, *in));
    EXPECT_FALSE(cidr_matches(*net, *out));
    auto mapped = parse_cidr_address("::ffff:10.1.1.1");
    ASSERT_TRUE(mapped);
    EXPECT_FALSE(cidr_matches(*net, *mapped));
    EXPECT_FALSE(parse_cidr_address("[10.1.1.1]"));
    EXPECT_FALSE(parse_cidr_address("010.1.1.1"));
    EXPECT_FALSE(parse_cidr_address("fe80::1%eth0"));
}

struct Loaded {
    DictPtr dict;
    std::string warnings;
};

Loaded load(std::string_view text) {
    util::msg_set_program("postmap");
    testing::internal::CaptureStderr();
    DictPtr d = cidr_table_from_text("t", text, 0);
    return {std::move(d), testing::internal::GetCapturedStderr()};
}

std::string answer(Dict& d, std::string_view key) {
    auto r = d.lookup(key);
    return r.is_found() ? "=" + r.value() : "none";
}

TEST(CidrTableTest, RulesNegationAndBlocks) {
    auto t = load("if 10.0.0.0/8\n10.1.0.0/16 ten-one\n!10.2.0.0/16 ten-not-two\nendif\n!2.0.0.0/8 not-2\n");
    EXPECT_EQ(t.warnings, "");
    EXPECT_EQ(answer(*t.dict, "10.1.2.3"), "=ten-one");
    EXPECT_EQ(answer(*t.dict, "10.3.1.1"), "=ten-not-two");
    EXPECT_EQ(answer(*t.dict, "10.2.1.1"), "=not-2");
    EXPECT_EQ(answer(*t.dict, "2.1.1.1"), "none");
    EXPECT_EQ(answer(*t.dict, "::2"), "none");  // negation stays within a family
    EXPECT_EQ(answer(*t.dict, "foo"), "none");
}

TEST(CidrTableTest, Diagnostics) {
    std::string p = "postmap: warning: cidr map t, line ";
    auto t = load("10.0.0.0/8\nif 10.0.0.0/8 extra\nendif junk\nendif\nif\n!\n1.2.3.4 x\nif 5.0.0.0/8\n");
    EXPECT_EQ(t.warnings, p + "1: no lookup result: skipping this rule\n" + p +
                              "2: bad mask value in \"10.0.0.0/8 extra\": skipping this rule\n" + p +
                              "3: garbage after ENDIF: skipping this rule\n" + p +
                              "4: ENDIF without IF: skipping this rule\n" + p +
                              "5: no address pattern: skipping this rule\n" + p +
                              "6: no address pattern: skipping this rule\n" + p + "8: IF has no matching ENDIF\n");
    EXPECT_EQ(answer(*t.dict, "1.2.3.4"), "=x");
}

}  // namespace
}  // namespace pf::dict
