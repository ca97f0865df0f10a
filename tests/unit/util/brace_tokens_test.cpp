// Unit tests for brace-aware tokens (util/brace_tokens.h): how the reference
// splits lookup table lists ("a:b, c:{d e}") and takes "{...}" groups apart,
// with the diagnostics observed from postconf 3.7.11.
#include "util/brace_tokens.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::util {
namespace {

constexpr std::string_view kSeps = ", \t\r\n";

std::vector<std::string> tokens(std::string_view text) {
    std::vector<std::string> out;
    std::string_view cursor = text;
    while (auto t = next_braced_token(cursor, kSeps)) out.emplace_back(*t);
    return out;
}

using Tokens = std::vector<std::string>;

TEST(BraceTokensTest, SplitsOnWhitespaceAndCommas) {
    EXPECT_EQ(tokens("a:b, c:d\te,,f\n"), (Tokens{"a:b", "c:d", "e", "f"}));
    EXPECT_EQ(tokens(""), Tokens{});
    EXPECT_EQ(tokens(" ,\t"), Tokens{});
}

TEST(BraceTokensTest, BracesKeepSeparatorsInside) {
    EXPECT_EQ(tokens("unionmap:{mysql:/a, mysql:/b} x"), (Tokens{"unionmap:{mysql:/a, mysql:/b}", "x"}));
    EXPECT_EQ(tokens("inline:{ {a=b}, {c=d} },pcre:{{/x/ y}}x z"),
              (Tokens{"inline:{ {a=b}, {c=d} }", "pcre:{{/x/ y}}x", "z"}));
    // A '}' with no open '{' is an ordinary character.
    EXPECT_EQ(tokens("a} b}}c"), (Tokens{"a}", "b}}c"}));
    // An unclosed '{' runs to the end of the text.
    EXPECT_EQ(tokens("x:{a, b c"), (Tokens{"x:{a, b c"}));
}

TEST(BraceTokensTest, StripsWellFormedGroup) {
    auto r = strip_braces("{ mysql:/x, {y} }");
    EXPECT_EQ(r.inner, " mysql:/x, {y} ");
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(strip_braces("{}").inner, "");
}

TEST(BraceTokensTest, TextAfterTheGroup) {
    auto r = strip_braces("{config_dir}/blacklist_helo");
    EXPECT_EQ(r.inner, "config_dir");
    EXPECT_EQ(r.error, "syntax error after '}' in \"{config_dir}/blacklist_helo\"");
    r = strip_braces("{{/x/ y}}x");
    EXPECT_EQ(r.inner, "{/x/ y}");
    EXPECT_EQ(r.error, "syntax error after '}' in \"{{/x/ y}}x\"");
}

TEST(BraceTokensTest, MissingCloseBrace) {
    auto r = strip_braces("{mysql:/p14.cf");
    EXPECT_EQ(r.inner, "mysql:/p14.cf");
    EXPECT_EQ(r.error, "missing '}' in \"{mysql:/p14.cf\"");
    r = strip_braces("{{a}");
    EXPECT_EQ(r.inner, "{a}");
    EXPECT_EQ(r.error, "missing '}' in \"{{a}\"");
}

}  // namespace
}  // namespace pf::util
