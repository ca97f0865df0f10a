// Unit tests for the main.cf reader and logical lines (config/main_cf.h,
// config/logical_lines.h), from behaviour observed on the reference.
#include "config/logical_lines.h"
#include "config/main_cf.h"

#include "util/msg.h"

#include <gtest/gtest.h>

namespace pf::config {
namespace {

class MainCfTest : public ::testing::Test {
protected:
    void SetUp() override {
        util::msg_fatal_throws(true);
        util::msg_set_quiet(true);
    }
    void TearDown() override {
        util::msg_fatal_throws(false);
        util::msg_set_quiet(false);
    }
};

TEST_F(MainCfTest, ContinuationCommentsAndBlankLines) {
    auto lines = read_logical_lines("a = 1\n  two\n# c\n  three\n\n  four\nb=2\n", "main.cf");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].text, "a = 1  two  three  four");
    EXPECT_EQ(lines[0].first_line, 1);
    EXPECT_EQ(lines[0].last_line, 6);
    EXPECT_EQ(lines[1].text, "b=2");
}

TEST_F(MainCfTest, LeadingWhitespaceLineIsDropped) {
    auto lines = read_logical_lines("  orphan = 1\n  more\nb = 2", "main.cf");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].text, "b = 2");
}

TEST_F(MainCfTest, NulEndsTheVisibleText) {
    auto cf = MainCf::parse(std::string_view("x = a\0b\n  c\n", 12), "main.cf");
    ASSERT_NE(cf.find("x"), nullptr);
    EXPECT_EQ(*cf.find("x"), "a");
}

TEST_F(MainCfTest, NameValueSplitting) {
    std::string err;
    auto nv = split_name_value("  name   =   some value  ", err);
    ASSERT_TRUE(nv);
    EXPECT_EQ(nv->name, "name");
    EXPECT_EQ(nv->value, "some value");
    EXPECT_FALSE(split_name_value("name", err));
    EXPECT_EQ(err, "missing '=' after attribute name");
    EXPECT_FALSE(split_name_value("= x", err));
    EXPECT_EQ(err, "missing attribute name");
}

TEST_F(MainCfTest, LaterEntryWins) {
    auto cf = MainCf::parse("a = 1\nb = 2\na = 3\n", "main.cf");
    ASSERT_EQ(cf.entries().size(), 2u);
    EXPECT_EQ(*cf.find("a"), "3");
}

TEST_F(MainCfTest, MissingEqualsIsFatal) {
    EXPECT_THROW(MainCf::parse("foo\n", "main.cf"), util::FatalError);
}

}  // namespace
}  // namespace pf::config
