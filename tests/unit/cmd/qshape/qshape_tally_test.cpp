// qshape's bucket arithmetic, headings and report layout. Expected texts
// are the reference qshape's output for the same options (observed by
// running it on an empty queue, and with messages of known ages).
#include "cmd/qshape/qshape_perl.h"
#include "cmd/qshape/qshape_tally.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::qshape {
namespace {

constexpr double kNow = 1800000000;

double minutes_ago(double minutes) { return kNow - minutes * 60; }

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
}

TEST(QshapeBuckets, GeometricAgesDoubleFromTheFirstTick) {
    TallyOptions o;
    EXPECT_EQ(bucket_of(minutes_ago(0), kNow, o), 1u);
    EXPECT_EQ(bucket_of(minutes_ago(4.99), kNow, o), 1u);
    EXPECT_EQ(bucket_of(minutes_ago(5), kNow, o), 2u);
    EXPECT_EQ(bucket_of(minutes_ago(9.99), kNow, o), 2u);
    EXPECT_EQ(bucket_of(minutes_ago(10), kNow, o), 3u);
    EXPECT_EQ(bucket_of(minutes_ago(20), kNow, o), 4u);
    EXPECT_EQ(bucket_of(minutes_ago(40), kNow, o), 5u);
    EXPECT_EQ(bucket_of(minutes_ago(639), kNow, o), 8u);  // heading 640
    EXPECT_EQ(bucket_of(minutes_ago(640), kNow, o), 9u);  // heading 1280
    EXPECT_EQ(bucket_of(minutes_ago(1279), kNow, o), 9u);
    EXPECT_EQ(bucket_of(minutes_ago(1280), kNow, o), 10u);  // heading 1280+
    EXPECT_EQ(bucket_of(minutes_ago(1e6), kNow, o), 10u);  // the last bucket has no limit
    EXPECT_EQ(bucket_of(kNow + 3600, kNow, o), 1u);         // arrival in the future
    EXPECT_EQ(bucket_of(0, kNow, o), 10u);                  // no time at all
}

TEST(QshapeBuckets, LinearAgesAreMultiplesOfTheTick) {
    TallyOptions o;
    o.linear = true;
    EXPECT_EQ(bucket_of(minutes_ago(4), kNow, o), 1u);
    EXPECT_EQ(bucket_of(minutes_ago(5), kNow, o), 2u);
    EXPECT_EQ(bucket_of(minutes_ago(14.9), kNow, o), 3u);
    EXPECT_EQ(bucket_of(minutes_ago(15), kNow, o), 4u);
    EXPECT_EQ(bucket_of(minutes_ago(44), kNow, o), 9u);
    EXPECT_EQ(bucket_of(minutes_ago(46), kNow, o), 10u);
}

TEST(QshapeBuckets, TickAndCountOptions) {
    TallyOptions o;
    o.tick = 2.5;
    EXPECT_EQ(bucket_of(minutes_ago(2), kNow, o), 1u);
    EXPECT_EQ(bucket_of(minutes_ago(5), kNow, o), 3u);
    o.tick = 5;
    o.bucket_count = 3;
    EXPECT_EQ(bucket_of(minutes_ago(12), kNow, o), 3u);
    EXPECT_EQ(bucket_of(minutes_ago(7), kNow, o), 2u);
    // A fractional count caps at its integer part, as a Perl array index.
    o.bucket_count = 2.5;
    EXPECT_EQ(bucket_of(minutes_ago(1000), kNow, o), 2u);
    // Below one, old mail lands in column 0 (the reference counts it twice).
    o.bucket_count = 0.5;
    EXPECT_EQ(bucket_of(minutes_ago(1000), kNow, o), 0u);
}

TEST(QshapeBuckets, Headings) {
    TallyOptions o;
    EXPECT_EQ(join(bucket_headings(o)), "T 5 10 20 40 80 160 320 640 1280 1280+");
    o.linear = true;
    EXPECT_EQ(join(bucket_headings(o)), "T 5 10 15 20 25 30 35 40 45 45+");
    o = {};
    o.tick = 2.5;
    EXPECT_EQ(join(bucket_headings(o)), "T 2.5 5 10 20 40 80 160 320 640 640+");
    o.linear = true;
    o.bucket_count = 4;
    EXPECT_EQ(join(bucket_headings(o)), "T 2.5 5 7.5 7.5+");
    o = {};
    o.bucket_count = 1;
    EXPECT_EQ(join(bucket_headings(o)), "T 0+");
    o.bucket_count = 2.5;
    EXPECT_EQ(join(bucket_headings(o)), "T 5 10");
    o.bucket_count = 0.5;
    EXPECT_EQ(join(bucket_headings(o)), "T");
    o.bucket_count = 3;
    EXPECT_EQ(join(bucket_headings(o)), "T 5 10 10+");
}

TEST(QshapeBuckets, HugeHeadingsTurnToFloatingPointAsInPerl) {
    TallyOptions o;
    o.bucket_count = 70;
    o.tick = 2.5;
    const auto heads = bucket_headings(o);
    ASSERT_EQ(heads.size(), 71u);
    EXPECT_EQ(heads[69], "7.37869762948382e+20");
    EXPECT_EQ(heads[70], "7.37869762948382e+20+");
    o.tick = 5;
    const auto whole = bucket_headings(o);
    EXPECT_EQ(whole[62], "11529215046068469760");  // still an unsigned integer
    EXPECT_EQ(whole[63], "2.30584300921369e+19");
}

TEST(QshapeReport, EmptyQueue) {
    Tally tally{TallyOptions{}};
    EXPECT_EQ(tally.render(""),
              "                                         T  5 10 20 40 80 160 320 640 1280 1280+\n"
              "                                  TOTAL  0  0  0  0  0  0   0   0   0    0     0\n");
    TallyOptions narrow;
    narrow.bucket_count = 3;
    narrow.width = 81;
    EXPECT_EQ(Tally(narrow).render("CLS"),
              "CLS                                                                      T  5 10 10+\n"
              "                                                               TOTAL  0  0  0   0\n");
}

TEST(QshapeReport, CountsOrderAndParents) {
    TallyOptions o;
    o.parents = true;
    o.min_subdomains = 2;
    o.bucket_count = 3;
    Tally tally(o);
    tally.add(1, {std::string("a@x.example.com"), std::string("b@y.example.com")});
    tally.add(3, {std::string("c@Z.EXAMPLE.COM"), std::string("d@other.org")});
    tally.add(2, {std::string("e@x.example.com")});
    // 80 columns less 3+3+3+4 for the counts: names get 67.
    EXPECT_EQ(tally.render(""),
              "                                                                     T  5 10 10+\n"
              "                                                              TOTAL  5  2  1   2\n"
              "                                                       .example.com  4  2  1   1\n"
              "                                                      x.example.com  2  1  1   0\n"
              "                                                          other.org  1  0  0   1\n"
              "                                                      y.example.com  1  1  0   0\n"
              "                                                      z.example.com  1  0  0   1\n");
    o.min_subdomains = 4;  // .example.com has 3 subdomains: not shown
    Tally fewer(o);
    fewer.add(1, {std::string("a@x.example.com"), std::string("b@y.example.com"), std::string("c@z.example.com")});
    EXPECT_EQ(fewer.render("").find(" .example.com"), std::string::npos);
}

TEST(QshapeReport, SendersWithoutAddressAreMailerDaemon) {
    TallyOptions o;
    o.bucket_count = 1;
    Tally tally(o);
    tally.add(1, {std::string("")});
    tally.add(1, {std::nullopt});
    const std::string out = tally.render("");
    EXPECT_NE(out.find("MAILER-DAEMON  2  2\n"), std::string::npos) << out;
}

TEST(QshapeReport, LongNamesAreCutOnTheLeft) {
    TallyOptions o;
    o.bucket_count = 20;  // leaves the minimum of 18 columns for names
    o.parents = true;
    o.min_subdomains = 1;
    Tally tally(o);
    tally.add(1, {std::string("u@very-long-subdomain-name.department.example.com")});
    const std::string out = tally.render("");
    // "+" and the last 17 characters; ".+" and the last 16 for a parent.
    EXPECT_NE(out.find("\n+tment.example.com  1"), std::string::npos) << out;
    EXPECT_NE(out.find("\n.+ment.example.com  1"), std::string::npos) << out;
    EXPECT_NE(out.find("\n      .example.com  1"), std::string::npos) << out;
}

TEST(QshapeReport, TopDomainsCutIncludesTotal) {
    TallyOptions o;
    o.top_domains = 2;
    Tally tally(o);
    tally.add(1, {std::string("a@aa.example"), std::string("b@aa.example"), std::string("c@b.example")});
    const std::string out = tally.render("");
    EXPECT_NE(out.find("TOTAL"), std::string::npos);
    EXPECT_NE(out.find("aa.example"), std::string::npos);
    EXPECT_EQ(out.find("b.example"), std::string::npos);
}

TEST(QshapePerl, Numify) {
    EXPECT_EQ(perl_numify("5").value, 5);
    EXPECT_TRUE(perl_numify(" 5 ").numeric);
    EXPECT_TRUE(perl_numify("+2.5e1").numeric);
    EXPECT_EQ(perl_numify("+2.5e1").value, 25);
    EXPECT_TRUE(perl_numify(".5").numeric);
    EXPECT_TRUE(perl_numify("5.").numeric);
    EXPECT_FALSE(perl_numify("1_0").numeric);
    EXPECT_EQ(perl_numify("1_0").value, 1);
    EXPECT_FALSE(perl_numify("0x10").numeric);
    EXPECT_EQ(perl_numify("0x10").value, 0);
    EXPECT_FALSE(perl_numify("").numeric);
    EXPECT_FALSE(perl_numify(" ").numeric);
    EXPECT_FALSE(perl_numify("  12x").numeric);
    EXPECT_EQ(perl_numify("  12x").value, 12);
    EXPECT_TRUE(perl_numify("Inf").numeric);
    EXPECT_FALSE(perl_numify("1e").numeric);
    EXPECT_EQ(perl_numify("1e").value, 1);
}

TEST(QshapePerl, ArgumentDisplay) {
    // As perl 5.36 shows them in "isn't numeric" warnings.
    EXPECT_EQ(perl_argument_display(std::string("\x01\x80\t\\abc\n", 8)), "^AM-\\0^I\\\\abc\\n");
    EXPECT_EQ(perl_argument_display(std::string(70, 'a')), std::string(56, 'a') + "...");
}

}  // namespace
}  // namespace pf::qshape
