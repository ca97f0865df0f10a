// Unit tests for pcre: and regexp: tables (dict/dict_pattern.h), with
// answers and diagnostics observed from the reference's postmap 3.7.11.
#include "dict/dict_pattern.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <string>

namespace pf::dict {
namespace {

struct Loaded {
    DictPtr dict;
    std::string warnings;
};

Loaded load(std::string_view type, std::string_view text, Flags flags = 0) {
    util::msg_set_program("postmap");
    testing::internal::CaptureStderr();
    auto engine = type == "pcre" ? make_pcre_engine() : make_regexp_engine();
    DictPtr d = pattern_table_from_text(std::move(engine), "t", text, flags);
    return {std::move(d), testing::internal::GetCapturedStderr()};
}

std::string answer(Dict& d, std::string_view key) {
    auto r = d.lookup(key);
    if (r.is_found()) return "=" + r.value();
    if (r.is_error()) return "error";
    return "none";
}

class BothTypes : public testing::TestWithParam<const char*> {};

TEST_P(BothTypes, SubstitutionKeepsTheKeysCase) {
    auto t = load(GetParam(), "/^(a)(b)?c(.*)$/ 1=$1 2=$2 3=${3} $$\n/^lit/ literal $$ text\n");
    EXPECT_EQ(t.warnings, "");
    EXPECT_EQ(answer(*t.dict, "abcd"), "=1=a 2=b 3=d $");
    EXPECT_EQ(answer(*t.dict, "ACD"), "=1=A 2= 3=D $");
    EXPECT_EQ(answer(*t.dict, "LITERAL"), "=literal $ text");
    EXPECT_EQ(answer(*t.dict, "zzz"), "none");
}

TEST_P(BothTypes, FoldMultiFoldsTheKey) {
    auto t = load(GetParam(), "/^(a)bc$/ $1\n", kFoldMulti);
    EXPECT_EQ(answer(*t.dict, "ABC"), "=a");
    auto u = load(GetParam(), "/^(a)bc$/ $1\n", kFoldFixed);
    EXPECT_EQ(answer(*u.dict, "ABC"), "=A");
}

TEST_P(BothTypes, IfEndifAndNegation) {
    auto t = load(GetParam(), "if /^a/\nif !/b/\n/c/ a-not-b-c\nendif\n/c/ a-c\nendif\n!/^x/ not-x\n");
    EXPECT_EQ(t.warnings, "");
    EXPECT_EQ(answer(*t.dict, "ac"), "=a-not-b-c");
    EXPECT_EQ(answer(*t.dict, "abc"), "=a-c");
    EXPECT_EQ(answer(*t.dict, "c"), "=not-x");
    EXPECT_EQ(answer(*t.dict, "xc"), "none");
}

TEST_P(BothTypes, UnclosedIfCoversTheRest) {
    std::string kind = GetParam();
    auto t = load(GetParam(), "if /a/\nif /b/\n/c/ ABC\n");
    EXPECT_EQ(t.warnings, "postmap: warning: " + kind + " map t, line 2: IF has no matching ENDIF\n" +
                              "postmap: warning: " + kind + " map t, line 1: IF has no matching ENDIF\n");
    EXPECT_EQ(answer(*t.dict, "abc"), "=ABC");
    EXPECT_EQ(answer(*t.dict, "ac"), "none");
}

TEST_P(BothTypes, Diagnostics) {
    std::string kind = GetParam();
    std::string p = "postmap: warning: " + kind + " map t, line ";
    struct Case {
        const char* line;
        std::string want;
    } cases[] = {
        {"/a/ A $1", p + "1: out of range replacement index \"1\": skipping this rule\n"},
        {"/(a)/ A $x", p + "1: non-numeric replacement index \"x\"\n" + p + "1: bad replacement syntax: skipping this rule\n"},
        {"!/(a)/ A $1", p + "1: $number found in negative match replacement text: skipping this rule\n"},
        {"/a/z A", p + "1: unknown regexp option \"z\": skipping this rule\n"},
        {"foo bar", p + "1: ignoring unrecognized request\n"},
        {"endif", p + "1: ignoring ENDIF without matching IF\n"},
        {"if", p + "1: no regexp: skipping this rule\n"},
        {"!", p + "1: no regexp: skipping this rule\n"},
        {"if /a/ x\nendif", p + "1: ignoring extra text after IF statement: \"x\"\n" + p +
                                "1: do not prepend whitespace to statements between IF and ENDIF\n"},
        {"if /a/\nendif x", p + "3: ignoring extra text after ENDIF\n"},
    };
    for (const auto& c : cases) {
        std::string text = c.line;
        if (text.find('\n') != std::string::npos) text.insert(text.find('\n') + 1, "/b/ B\n");
        auto t = load(GetParam(), text + "\n");
        EXPECT_EQ(t.warnings, c.want) << c.line;
    }
    auto t = load(GetParam(), "/a/\n");
    EXPECT_EQ(t.warnings, p + "1: no replacement text: using empty string\n");
    EXPECT_EQ(answer(*t.dict, "a"), "=");
}

TEST_P(BothTypes, LogicalLines) {
    std::string kind = GetParam();
    auto t = load(GetParam(), "  /orphan/ orphan text that is rather long\n/^a$/ x\n\tcont\n# c\n  more\n/^b$/ B\r\n");
    EXPECT_EQ(t.warnings, "postmap: warning: t: logical line must not start with whitespace: \"  /orphan/ orphan text that is...\"\n");
    EXPECT_EQ(answer(*t.dict, "a"), "=x\tcont  more");
    EXPECT_EQ(answer(*t.dict, "b"), "=B");
    EXPECT_EQ(answer(*t.dict, "orphan"), "none");
}

TEST_P(BothTypes, KeysStopAtNul) {
    auto t = load(GetParam(), "/^a$/ A\n");
    EXPECT_EQ(answer(*t.dict, std::string_view("a\0b", 3)), "=A");
}

INSTANTIATE_TEST_SUITE_P(PatternTables, BothTypes, testing::Values("pcre", "regexp"));

TEST(PcreTableTest, DefaultsAndFlags) {
    auto t = load("pcre", "/^a.b$/ dotall\n/^c.d$/s no-dotall\n/^e$/i sensitive\n/^f$/X obsolete\n");
    EXPECT_EQ(t.warnings, "postmap: warning: pcre map t, line 4: ignoring obsolete regexp option \"X\"\n");
    EXPECT_EQ(answer(*t.dict, "a\nb"), "=dotall");
    EXPECT_EQ(answer(*t.dict, "c\nd"), "none");
    EXPECT_EQ(answer(*t.dict, "E"), "none");
    EXPECT_EQ(answer(*t.dict, "F"), "=obsolete");
}

TEST(PcreTableTest, CompileErrorAndMissingDelimiter) {
    auto t = load("pcre", "/(a/ A\n/a\\\n");
    EXPECT_EQ(t.warnings,
              "postmap: warning: pcre map t, line 1: error in regex at offset 2: missing closing parenthesis\n"
              "postmap: warning: pcre map t, line 2: no closing regexp delimiter \"/\": ignoring this rule\n");
}

TEST(PcreTableTest, MatchLimitSkipsTheRule) {
    auto t = load("pcre", "/^(a|aa)+$/ X\n/b/ B\n");
    testing::internal::CaptureStderr();
    EXPECT_EQ(answer(*t.dict, std::string(60, 'a') + "b"), "=B");
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "postmap: warning: pcre map t, line 1: match limit exceeded\n");
}

// Patterns whose literal prefix lets a lookup skip pcre2_match() (and
// patterns that only look like it): the answers are the library's.
TEST(PcreTableTest, LiteralPrefixShortcutKeepsAnswers) {
    auto t = load("pcre",
                  "/^abc|def/ alt\n/^ab?c/ opt\n/^AB+x/ caseless\n/^XY/i sensitive\n/^mn/m multi\n"
                  "/^q(c|d)/ group\n/^ab\\c(|vv/ ctrl\n/^k[|(]z|ww/ class\n/^u-1_@x/ punct\n");
    EXPECT_EQ(t.warnings, "");
    EXPECT_EQ(answer(*t.dict, "xdef"), "=alt");
    EXPECT_EQ(answer(*t.dict, "ABC"), "=alt");
    EXPECT_EQ(answer(*t.dict, "ac"), "=opt");
    EXPECT_EQ(answer(*t.dict, "abbbX"), "=caseless");
    EXPECT_EQ(answer(*t.dict, "xy"), "none");
    EXPECT_EQ(answer(*t.dict, "XYz"), "=sensitive");
    EXPECT_EQ(answer(*t.dict, "x\nmn"), "=multi");
    EXPECT_EQ(answer(*t.dict, "QD"), "=group");
    EXPECT_EQ(answer(*t.dict, "vv"), "=ctrl");
    EXPECT_EQ(answer(*t.dict, "ww"), "=class");
    EXPECT_EQ(answer(*t.dict, "k|z"), "=class");
    EXPECT_EQ(answer(*t.dict, "U-1_@X"), "=punct");
    EXPECT_EQ(answer(*t.dict, "u-1_@"), "none");
}

TEST(RegexpTableTest, BackslashAtEndClosesAndFlags) {
    auto t = load("regexp", "/a\\\n/(b/ B\n/^c$/x basic\n/^d.e$/m newline\n");
    EXPECT_EQ(t.warnings,
              "postmap: warning: regexp map t, line 1: no replacement text: using empty string\n"
              "postmap: warning: regexp map t, line 2: Unmatched ( or \\(\n");
    EXPECT_EQ(answer(*t.dict, "xa"), "=");
    EXPECT_EQ(answer(*t.dict, "C"), "=basic");
    EXPECT_EQ(answer(*t.dict, "d\ne"), "none");
    auto u = load("regexp", "/a/ $0\n");
    EXPECT_EQ(u.warnings,
              "postmap: warning: regexp map t, line 1: out-of-range replacement index \"0\"\n"
              "postmap: warning: regexp map t, line 1: bad replacement syntax: skipping this rule\n");
}

}  // namespace
}  // namespace pf::dict
