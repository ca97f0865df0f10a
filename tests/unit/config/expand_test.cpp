// Unit tests for parameter expansion (config/expand.h), table-driven from
// behaviour observed on the reference.
#include "config/expand.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <map>

namespace pf::config {
namespace {

struct Case {
    const char* text;
    const char* want;
};

ExpandHooks hooks_for(const std::map<std::string, std::string>& vars) {
    ExpandHooks h;
    h.lookup = [vars](std::string_view n) -> std::optional<std::string> {
        auto it = vars.find(std::string(n));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
    return h;
}

TEST(Expand, Forms) {
    std::map<std::string, std::string> vars = {
        {"a", "1"}, {"b", "2"}, {"empty", ""}, {"host", "vm.$dom"}, {"dom", "example"}, {"level", "3.6"}};
    const Case cases[] = {
        {"plain", "plain"},
        {"$a$b", "12"},
        {"${a}x$(b)", "1x2"},
        {"$$a", "$a"},
        {"$host", "vm.example"},
        {"${a?yes}", "yes"},
        {"${empty?yes}", ""},
        {"${nosuch?yes}", ""},
        {"${a:no}", ""},
        {"${empty:no}", "no"},
        {"${a?{x y}:{z}}", "x y"},
        {"${empty?{x y}:{z}}", "z"},
        {"${a?; $b}", "; 2"},
        {"${{$a} == {1} ? {eq} : {ne}}", "eq"},
        {"${{$a} != {1} ? {eq} : {ne}}", "ne"},
        {"${{10} < {9} ? {x} : {y}}", "y"},
        {"${{ 10 } < { 9 } ? {x} : {y}}", "x"},
        {"${{b} < {a} ? {x} : {y}}", "y"},
        {"${{$level} <level {3.10} ? {old} : {new}}", "old"},
        {"${{$level} <level {2} ? {old} : {new}}", "new"},
        {"${{1} == {2} ? {x}}", ""},
        {"$ab-c", "-c"},
    };
    auto h = hooks_for(vars);
    for (const auto& c : cases) {
        auto r = expand(c.text, h);
        EXPECT_EQ(r.status, ExpandStatus::ok) << c.text;
        EXPECT_EQ(r.text, c.want) << c.text;
    }
}

TEST(Expand, Errors) {
    util::msg_set_quiet(true);
    auto h = hooks_for({{"a", "$b"}, {"b", "$a"}});
    EXPECT_EQ(expand("${abc", h).status, ExpandStatus::syntax_error);
    EXPECT_EQ(expand("x$", h).status, ExpandStatus::syntax_error);
    EXPECT_EQ(expand("${}", h).status, ExpandStatus::syntax_error);
    EXPECT_EQ(expand("${a:{x}:{y}}", h).status, ExpandStatus::syntax_error);
    EXPECT_EQ(expand("${{1} <> {2} ? {x} : {y}}", h).status, ExpandStatus::syntax_error);
    EXPECT_EQ(expand("$a", h).status, ExpandStatus::nesting_error);
    EXPECT_EQ(expand("${{1} <> {2} ? {x} : {y}}", h).status, ExpandStatus::syntax_error);
    util::msg_set_quiet(false);
}

TEST(Expand, CompatLevels) {
    EXPECT_EQ(compare_compat_levels("3.6", "3.10"), -1);
    EXPECT_EQ(compare_compat_levels("3", "3.0"), 0);
    EXPECT_EQ(compare_compat_levels("2", "1"), 1);
    EXPECT_FALSE(compare_compat_levels("x", "1").has_value());
}

}  // namespace
}  // namespace pf::config
