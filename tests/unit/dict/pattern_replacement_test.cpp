// Unit tests for the result text of pcre/regexp rules
// (dict/pattern_replacement.h), with the diagnostics observed from the
// reference's postmap 3.7.11.
#include "dict/pattern_replacement.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::dict {
namespace {

struct Parsed {
    bool ok;
    std::string expanded;  // with group n = "<n>"
    size_t max_group;
    std::string warnings;  // stderr
};

Parsed parse(std::string_view text, std::string_view zero = "out of range") {
    util::msg_set_program("postmap");
    std::vector<std::string> rule_warnings;
    testing::internal::CaptureStderr();
    auto r = PatternReplacement::parse(text, zero, [&](const std::string& w) { rule_warnings.push_back(w); });
    std::string err = testing::internal::GetCapturedStderr();
    for (auto& w : rule_warnings) err += "rule: " + w + "\n";
    if (!r) return {false, "", 0, err};
    std::string out = r->expand([](size_t n) -> std::string_view {
        static std::vector<std::string> names;
        names.push_back("<" + std::to_string(n) + ">");
        return names.back();
    });
    return {true, out, r->max_group(), err};
}

TEST(PatternReplacementTest, Forms) {
    struct Case {
        const char* text;
        const char* want;
        size_t max_group;
    } cases[] = {
        {"plain text", "plain text", 0},
        {"$$", "$", 0},
        {"a$$b$$", "a$b$", 0},
        {"$1", "<1>", 1},
        {"${1}x$(2)y", "<1>x<2>y", 2},
        {"$$$1$$", "$<1>$", 1},
        {"${1}}", "<1>}", 1},
        {"$01", "<1>", 1},
        {"$3 $1", "<3> <1>", 3},
        {"$4294967297", "<1>", 1},  // atoi() keeps the low 32 bits
        {"", "", 0},
    };
    for (const auto& c : cases) {
        auto p = parse(c.text);
        EXPECT_TRUE(p.ok) << c.text;
        EXPECT_EQ(p.expanded, c.want) << c.text;
        EXPECT_EQ(p.max_group, c.max_group) << c.text;
        EXPECT_EQ(p.warnings, "") << c.text;
    }
}

TEST(PatternReplacementTest, HugeIndexesWrapLikeTheReference) {
    auto p = parse("$2147483648");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(static_cast<int>(p.max_group), -2147483647 - 1);
    p = parse("$99999999999999999999999");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(static_cast<int>(p.max_group), -1);
}

TEST(PatternReplacementTest, Diagnostics) {
    struct Case {
        const char* text;
        const char* warnings;
    } cases[] = {
        {"A $x", "rule: non-numeric replacement index \"x\"\n"},
        {"A $x $y", "rule: non-numeric replacement index \"x\"\nrule: non-numeric replacement index \"y\"\n"},
        {"A $1y", "rule: non-numeric replacement index \"1y\"\n"},
        {"A ${1:foo}", "rule: non-numeric replacement index \"1:foo\"\n"},
        {"A ${{1}}", "rule: non-numeric replacement index \"{1}\"\n"},
        {"A ${1(}", "rule: non-numeric replacement index \"1(\"\n"},
        {"A ${1", "postmap: warning: truncated macro reference: \"A ${1\"\n"},
        {"A $(1}", "postmap: warning: truncated macro reference: \"A $(1}\"\n"},
        {"A ${1{} $x", "postmap: warning: truncated macro reference: \"A ${1{} $x\"\n"},
        {"A ${}", "postmap: warning: empty macro name: \"A ${}\"\n"},
        {"A $", "postmap: warning: empty macro name: \"A $\"\n"},
        {"A $ $x", "postmap: warning: empty macro name: \"A $ $x\"\n"},
        {"A $0", "rule: out of range replacement index \"0\"\n"},
        {"A $00", "rule: out of range replacement index \"00\"\n"},
        {"A $4294967296", "rule: out of range replacement index \"4294967296\"\n"},
    };
    for (const auto& c : cases) {
        auto p = parse(c.text);
        EXPECT_FALSE(p.ok) << c.text;
        EXPECT_EQ(p.warnings, c.warnings) << c.text;
    }
    EXPECT_EQ(parse("$0", "out-of-range").warnings, "rule: out-of-range replacement index \"0\"\n");
}

TEST(PatternReplacementTest, Literal) {
    auto r = PatternReplacement::literal("$1 stays");
    EXPECT_EQ(r.max_group(), 0u);
    EXPECT_EQ(r.expand([](size_t) { return std::string_view{"x"}; }), "$1 stays");
}

}  // namespace
}  // namespace pf::dict
