// Unit tests for the postmap/texthash source format (dict/table_source.h):
// logical lines, key/value splitting with quotes and backslashes, the
// warnings' cases, UTF-8 checks and -F file values, as observed from
// postmap 3.7.11.
#include "dict/table_source.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::dict {
namespace {

struct Quiet {
    Quiet() { util::msg_set_quiet(true); }
    ~Quiet() { util::msg_set_quiet(false); }
};

std::vector<SourceEntry> entries(std::string text, SourceOptions options = {}) {
    Quiet q;
    TableSource source(std::move(text), "t", options);
    std::vector<SourceEntry> out;
    while (auto e = source.next()) out.push_back(*e);
    return out;
}

TEST(TableSourceTest, LogicalLinesJoinContinuationsAcrossComments) {
    Quiet q;
    SourceLines lines("  orphan\nk1 v1\n  c1\n# comment\n\n  c2\t \nk2 v2\n", "t");
    auto a = lines.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->text, "k1 v1  c1  c2\t ");
    EXPECT_EQ(a->lineno, 2);
    auto b = lines.next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->text, "k2 v2");
    EXPECT_EQ(b->lineno, 7);
    EXPECT_FALSE(lines.next());
    lines.rewind();
    auto again = lines.next();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->lineno, 2);
}

TEST(TableSourceTest, SplitsAtFirstUnquotedWhitespace) {
    KeyValue kv;
    EXPECT_EQ(split_key_value("a b c", kv), SplitStatus::ok);
    EXPECT_EQ(kv.key, "a");
    EXPECT_EQ(kv.value, "b c");
    EXPECT_EQ(split_key_value("\"k 4\"\tv ", kv), SplitStatus::ok);
    EXPECT_EQ(kv.key, "\"k 4\"");
    EXPECT_EQ(kv.value, "v");
    EXPECT_EQ(split_key_value("a\\ b v1", kv), SplitStatus::ok);
    EXPECT_EQ(kv.key, "a\\ b");
    EXPECT_EQ(split_key_value("\"a\\\"b\" v", kv), SplitStatus::ok);
    EXPECT_EQ(kv.key, "\"a\\\"b\"");
    EXPECT_EQ(split_key_value("x\"y\" v", kv), SplitStatus::ok);
    EXPECT_EQ(kv.key, "x\"y\"");
    EXPECT_EQ(split_key_value("a\x0b" "b", kv), SplitStatus::ok);
    EXPECT_EQ(kv.value, "b");
}

TEST(TableSourceTest, RejectsUnbalancedQuotesAndMissingParts) {
    KeyValue kv;
    EXPECT_EQ(split_key_value("\"unterminated v", kv), SplitStatus::unbalanced_quote);
    EXPECT_EQ(split_key_value("\"end\\\" v", kv), SplitStatus::unbalanced_quote);
    EXPECT_EQ(split_key_value("\"mid\"dle\"x v", kv), SplitStatus::unbalanced_quote);
    EXPECT_EQ(split_key_value("k \"val", kv), SplitStatus::ok);
    EXPECT_EQ(split_key_value("lonely", kv), SplitStatus::missing_part);
    EXPECT_EQ(split_key_value("lonely   ", kv), SplitStatus::missing_part);
    EXPECT_EQ(split_key_value("b\\ ", kv), SplitStatus::missing_part);
    EXPECT_EQ(split_key_value("a\\", kv), SplitStatus::missing_part);
    EXPECT_EQ(split_key_value("", kv), SplitStatus::missing_part);
}

TEST(TableSourceTest, EntriesSkipBadLinesAndCutAtNul) {
    auto es = entries(std::string("a 1\nlonely\n\"bad\nd\0x y\ne f\0g\nk: v\n", 33));
    ASSERT_EQ(es.size(), 3u);
    EXPECT_EQ(es[0].key, "a");
    EXPECT_EQ(es[1].key, "e");
    EXPECT_EQ(es[1].value, "f");
    EXPECT_EQ(es[1].lineno, 5);
    EXPECT_EQ(es[2].key, "k:");
}

TEST(TableSourceTest, Utf8CheckDropsInvalidLines) {
    SourceOptions o;
    o.utf8_check = true;
    auto es = entries("caf\xc3\xa9 v\nbad\xff v\nk val\xfe\nsur\xed\xa0\x80 x\n", o);
    ASSERT_EQ(es.size(), 1u);
    EXPECT_EQ(es[0].key, "caf\xc3\xa9");
    EXPECT_EQ(entries("bad\xff v\n").size(), 1u);
}

TEST(TableSourceTest, FileValuesBecomeBase64) {
    std::string error;
    auto missing = files_to_base64("/nonexistent/x", error);
    EXPECT_FALSE(missing);
    EXPECT_EQ(error, "open /nonexistent/x: No such file or directory");
    auto none = files_to_base64("", error);
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, "");
}

}  // namespace
}  // namespace pf::dict
