// postscreen_dnsbl_sites entries and reply filters, against the reference's
// parse results and messages (postscreen_dnsbl.c, ip_match.c).
#include "daemon/postscreen/postscreen_dnsbl_site.h"

#include <gtest/gtest.h>

namespace pf::postscreen {
namespace {

TEST(PostscreenDnsblSite, DomainAlone) {
    auto s = parse_dnsbl_site("zen.spamhaus.org");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->domain, "zen.spamhaus.org");
    EXPECT_EQ(s->weight, 1);
    EXPECT_TRUE(s->filter.empty());
}

TEST(PostscreenDnsblSite, FilterAndWeight) {
    auto s = parse_dnsbl_site("zen.spamhaus.org=127.0.0.[2..11]*3");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->domain, "zen.spamhaus.org");
    EXPECT_EQ(s->filter_text, "127.0.0.[2..11]");
    EXPECT_EQ(s->weight, 3);
    ASSERT_EQ(s->filter.size(), 1u);
    EXPECT_TRUE(s->filter[0].matches("127.0.0.2"));
    EXPECT_TRUE(s->filter[0].matches("127.0.0.11"));
    EXPECT_FALSE(s->filter[0].matches("127.0.0.12"));
    EXPECT_FALSE(s->filter[0].matches("127.0.1.2"));
}

TEST(PostscreenDnsblSite, NegativeWeightIsAllowlist) {
    auto s = parse_dnsbl_site("list.dnswl.org=127.0.[0..255].[1;2;3]*-5");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->weight, -5);
    EXPECT_TRUE(s->filter[0].matches("127.0.9.3"));
    EXPECT_FALSE(s->filter[0].matches("127.0.9.4"));
}

TEST(PostscreenDnsblSite, WeightWithBlanksAndSign) {
    auto s = parse_dnsbl_site("a.example* +2");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->weight, 2);
}

TEST(PostscreenDnsblSite, BadWeight) {
    auto s = parse_dnsbl_site("a.example*2x");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), "bad DNSBL weight factor \"2x\" in \"a.example*2x\"");
    EXPECT_FALSE(parse_dnsbl_site("a.example*"));
    EXPECT_FALSE(parse_dnsbl_site("a.example*99999999999"));
}

TEST(PostscreenDnsblSite, BadFilter) {
    auto s = parse_dnsbl_site("a.example=127.0.0");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().rfind("bad DNSBL filter syntax: ", 0), 0u);
    EXPECT_FALSE(parse_dnsbl_site("a.example=127.0.0.256"));
    EXPECT_FALSE(parse_dnsbl_site("a.example=127.0.0.[3..2]"));
    EXPECT_FALSE(parse_dnsbl_site("a.example=127.0.0.[2"));
    EXPECT_FALSE(parse_dnsbl_site("a.example=127.0.0.2.5"));
    EXPECT_FALSE(parse_dnsbl_site("a.example="));
}

TEST(PostscreenDnsblSite, BadDomain) {
    auto s = parse_dnsbl_site("bad_domain..example");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), "bad DNSBL domain name \"bad_domain..example\" in \"bad_domain..example\"");
}

TEST(PostscreenDnsblSite, WholePatternInBrackets) {
    auto f = parse_ip_filter("[127.0.0.2]");
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->matches("127.0.0.2"));
    auto g = parse_ip_filter("[127.0.0.[2;4]]");
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->matches("127.0.0.4"));
    EXPECT_FALSE(g->matches("127.0.0.3"));
}

TEST(PostscreenDnsblSite, FilterIgnoresNonAddresses) {
    auto f = parse_ip_filter("127.0.0.[0..255]");
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->matches(""));
    EXPECT_FALSE(f->matches("127.0.0"));
    EXPECT_FALSE(f->matches("127.0.0.1.2"));
    EXPECT_FALSE(f->matches("127.0.0.999"));
    EXPECT_FALSE(f->matches("::1"));
}

TEST(PostscreenDnsblSite, SplitList) {
    auto v = split_dnsbl_sites(" a.example*2,b.example=127.0.0.2\n\tc.example ");
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0], "a.example*2");
    EXPECT_EQ(v[2], "c.example");
}

}  // namespace
}  // namespace pf::postscreen
