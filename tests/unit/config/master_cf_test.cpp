// Unit tests for the master.cf reader (config/master_cf.h): field checks,
// argument normalisation and -o settings, table-driven from what postconf
// 3.7.11 was observed to print for the same entries.
#include "config/master_cf.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::config {
namespace {

using Words = std::vector<std::string>;

MasterEntry parse_ok(std::string_view text) {
    util::msg_set_quiet(true);
    auto e = parse_master_entry(text);
    util::msg_set_quiet(false);
    EXPECT_TRUE(e.has_value()) << text;
    return e ? *e : MasterEntry{};
}

TEST(MasterCf, EightFields) {
    auto e = parse_ok("smtp      inet  n       -       y       -       -       smtpd");
    EXPECT_EQ(e.name, "smtp");
    EXPECT_EQ(e.type, "inet");
    EXPECT_EQ(e.private_, "n");
    EXPECT_EQ(e.unpriv, "-");
    EXPECT_EQ(e.chroot, "y");
    EXPECT_EQ(e.wakeup, "-");
    EXPECT_EQ(e.maxproc, "-");
    EXPECT_EQ(e.command, "smtpd");
    EXPECT_TRUE(e.args.empty());
    EXPECT_EQ(e.options_end, 0u);
}

TEST(MasterCf, FieldCount) {
    for (const char* text : {"a", "a unix", "a unix - - n - -", "{# a b c d e f g h #}"}) {
        auto e = parse_master_entry(text);
        ASSERT_FALSE(e.has_value()) << text;
        EXPECT_EQ(e.error().kind, MasterError::field_count) << text;
    }
}

TEST(MasterCf, FieldValues) {
    struct Case {
        const char* text;
        const char* error;  // nullptr: accepted
    };
    const Case cases[] = {
        {"a bogus - - n - - smtp", "invalid type field \"bogus\" in \"a bogus - - n - - smtp\""},
        {"a unix x - n - - smtp", "invalid private field \"x\" in \"a unix x - n - - smtp\""},
        {"a unix - yes n - - smtp", "invalid unprivileged field \"yes\" in \"a unix - yes n - - smtp\""},
        {"a unix - - Y - - smtp", "invalid chroot field \"Y\" in \"a unix - - Y - - smtp\""},
        {"a unix - - n 5x - smtp", "invalid wakeup field \"5x\" in \"a unix - - n 5x - smtp\""},
        {"a unix - - n -1 - smtp", "invalid wakeup field \"-1\" in \"a unix - - n -1 - smtp\""},
        {"a unix - - n ?? - smtp", "invalid wakeup field \"??\" in \"a unix - - n ?? - smtp\""},
        {"a unix - - n - 5? smtp", "invalid process_limit field \"5?\" in \"a unix - - n - 5? smtp\""},
        {"a unix - - n ? - smtp", nullptr},
        {"a unix - - n -? - smtp", nullptr},
        {"a unix - - n 1000? 007 smtp", nullptr},
        {"a unix-dgram - - n - - smtp", nullptr},
        {"a pass - - n - - smtp", nullptr},
        {"a fifo - - n - - smtp", nullptr},
    };
    for (const auto& c : cases) {
        auto e = parse_master_entry(c.text);
        if (!c.error) {
            EXPECT_TRUE(e.has_value()) << c.text;
            continue;
        }
        ASSERT_FALSE(e.has_value()) << c.text;
        EXPECT_EQ(e.error().kind, MasterError::invalid_field);
        EXPECT_EQ(e.error().message, c.error);
    }
    // Edited fields may be empty (the reference accepts that too), not the type.
    EXPECT_FALSE(check_master_field(2, "", "").has_value());
    EXPECT_FALSE(check_master_field(5, "", "").has_value());
    EXPECT_TRUE(check_master_field(1, "", "").has_value());
}

TEST(MasterCf, ArgumentNormalisation) {
    struct Case {
        const char* args;
        Words want;
        size_t options_end;
    };
    const Case cases[] = {
        {"-o a=b x", {"-o", "a=b", "x"}, 2},
        {"-oa=b", {"-o", "a=b"}, 2},
        {"-vo a=b", {"-v", "-o", "a=b"}, 3},
        {"-vDo a=b", {"-vD", "-o", "a=b"}, 3},
        {"-oa=bo", {"-o", "a=b", "-o"}, 3},
        {"-ovo x", {"-o", "v", "-o", "x"}, 4},
        {"-ooo", {"-o", "-oo"}, 2},
        {"-o { a = b c }", {"-o", "a=b c"}, 2},
        {"-o { a = { b c } } x", {"-o", "a={ b c }", "x"}, 2},
        {"-o {x y}", {"-o", "x y"}, 2},
        {"-o{a=b}", {"-o", "a=b"}, 2},
        {"{ x y } z", {"x y", "z"}, 0},
        {"-o a=b -- -o c=d", {"-o", "a=b", "--", "-o", "c=d"}, 2},
        {"-o a=b - -o c=d", {"-o", "a=b", "-", "-o", "c=d"}, 4},
        {"- { x = y }", {"-", "x = y"}, 2},
        {"{-o} c=d", {"-o", "c=d"}, 2},
        {"a {} b", {"a", "", "b"}, 0},
        // Braced option words are options, not split; "-o..." takes a word.
        {"{ -o c=d } -o e=f", {"-o c=d", "-o", "e=f"}, 2},
        {"{-vo c=d} -o e=f", {"-vo c=d", "-o", "e=f"}, 3},
    };
    for (const auto& c : cases) {
        auto e = parse_ok(std::string("b inet - - n - - smtp ") + c.args);
        EXPECT_EQ(e.args, c.want) << c.args;
        EXPECT_EQ(e.options_end, c.options_end) << c.args;
    }
}

TEST(MasterCf, Settings) {
    auto e = parse_ok("b inet - - n - - smtp -o a -o =b -o c= -oa=b -o { d = e } -o x=1 y -o z=2");
    ASSERT_EQ(e.params.size(), 4u);
    EXPECT_EQ(e.params[0].name, "c");
    EXPECT_EQ(e.params[0].value, "");
    EXPECT_EQ(e.params[1].name, "a");
    EXPECT_EQ(e.params[2].name, "d");
    EXPECT_EQ(e.params[2].value, "e");
    EXPECT_EQ(e.params[3].name, "x");
    ASSERT_NE(e.param("a"), nullptr);
    EXPECT_EQ(*e.param("a"), "b");
    EXPECT_EQ(e.param("z"), nullptr);  // after the first non-option word
}

TEST(MasterCf, ContinuationLinesAndErrorsInFile) {
    auto entries = parse_master_cf("# c\nrelay unix - - y - - smtp\n  -o syslog_name=x\n\n  # inner\n  -o a=b\n",
                                   "master.cf");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].first_line, 2);
    EXPECT_EQ(entries[0].params.size(), 2u);

    util::msg_fatal_throws(true);
    try {
        parse_master_cf("a unix -\n - n\n", "/etc/postfix/master.cf");
        ADD_FAILURE() << "no error";
    } catch (const util::FatalError& e) {
        EXPECT_EQ(e.text, "file /etc/postfix/master.cf: line 1: bad field count");
    }
    util::msg_fatal_throws(false);
}

TEST(MasterCf, EditedSettingsAndCommand) {
    auto e = parse_ok("a unix - - n - - pipe -v -o x=1 -D flags=R");
    e.args.insert(e.args.begin() + static_cast<long>(e.options_end), {"-o", "new=v"});
    rescan_master_options(e);
    EXPECT_EQ(e.options_end, 6u);
    EXPECT_EQ(e.params.size(), 2u);
    ASSERT_TRUE(set_master_command(e, "smtpd -o {q = r s} t"));
    EXPECT_EQ(e.command, "smtpd");
    EXPECT_EQ(e.args, (Words{"-o", "q=r s", "t"}));
    EXPECT_FALSE(set_master_command(e, "   "));
}

TEST(MasterCf, FieldNames) {
    EXPECT_EQ(master_field_name(6), "process_limit");
    EXPECT_EQ(master_field_index("unprivileged"), 3);
    EXPECT_FALSE(master_field_index("bogus").has_value());
}

TEST(MasterCf, HostileInputDoesNotCrash) {
    std::string text = "a unix - - n - - smtp " + std::string(10000, '{') + "x" + std::string(5000, '}') +
                       std::string(1000, 'o') + " -" + std::string(1000, 'o');
    util::msg_set_quiet(true);
    auto e = parse_master_entry(text);
    util::msg_set_quiet(false);
    EXPECT_TRUE(e.has_value());
    // "-ooo..." is "-o" and its value "-oo...", as "-ooo" is "-o -oo".
    auto f = parse_ok(std::string("a unix - - n - - smtp -") + std::string(2000, 'o'));
    EXPECT_EQ(f.args.size(), 2u);
}

}  // namespace
}  // namespace pf::config
