// smtp-sink's option helpers: command lists for -f/-r/-q/-Q/-s, -W specs,
// -S escapes, atoi, and the dump-file template and directory helpers, with
// the reference 3.7.11 sink's diagnostics for bad values.
#include "cmd/smtp-sink/sink_config.h"
#include "cmd/smtp-sink/sink_dump.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/stat.h>

namespace pf::smtp_sink {
namespace {

struct FatalThrows {
    FatalThrows() { util::msg_fatal_throws(true); }
    ~FatalThrows() { util::msg_fatal_throws(false); }
};

std::string fatal_text(const std::function<void()>& fn) {
    FatalThrows guard;
    try {
        fn();
    } catch (const util::FatalError& e) {
        return e.text;
    }
    return "";
}

TEST(SinkConfig, CommandLists) {
    SinkConfig cfg;
    set_commands_flags(cfg, " MAIL,rcpt\t.  ,,Connect", kHardErr);
    EXPECT_TRUE(cfg.commands[find_command(cfg, "mail")].flags & kHardErr);
    EXPECT_TRUE(cfg.commands[find_command(cfg, "RCPT")].flags & kHardErr);
    EXPECT_TRUE(cfg.commands[find_command(cfg, ".")].flags & kHardErr);
    EXPECT_TRUE(cfg.commands[find_command(cfg, "connect")].flags & kHardErr);
    EXPECT_FALSE(cfg.commands[find_command(cfg, "data")].flags & kHardErr);
    EXPECT_EQ(find_command(cfg, "bogus"), -1);
    EXPECT_EQ(fatal_text([&] { set_commands_flags(cfg, "helo bogus", kSoftErr); }), "unknown command: bogus");
    // EHLO and HELO are off until main decides (-e, -L).
    EXPECT_FALSE(cfg.commands[find_command(cfg, "ehlo")].flags & kEnable);
    clear_command_flags(cfg, "xclient", kEnable);
    EXPECT_FALSE(cfg.commands[find_command(cfg, "xclient")].flags & kEnable);
}

TEST(SinkConfig, DelaySpecs) {
    SinkConfig cfg;
    set_command_delay_arg(cfg, "rcpt:5");
    EXPECT_EQ(cfg.commands[find_command(cfg, "rcpt")].delay, 5);
    EXPECT_EQ(cfg.commands[find_command(cfg, "rcpt")].delay_odds, 0);
    set_command_delay_arg(cfg, "::DATA::3:40");
    EXPECT_EQ(cfg.commands[find_command(cfg, "data")].delay, 3);
    EXPECT_EQ(cfg.commands[find_command(cfg, "data")].delay_odds, 40);
    EXPECT_EQ(fatal_text([&] { set_command_delay_arg(cfg, "data"); }), "invalid command delay argument: data");
    EXPECT_EQ(fatal_text([&] { set_command_delay_arg(cfg, "data:0"); }), "non-positive 'data' delay");
    EXPECT_EQ(fatal_text([&] { set_command_delay_arg(cfg, "data:1:100"); }), "delay odds for 'data' out of range");
    EXPECT_EQ(fatal_text([&] { set_command_delay_arg(cfg, "nope:1"); }), "unknown command: nope");
}

TEST(SinkConfig, Unescape) {
    EXPECT_EQ(unescape("a\\tb\\n"), "a\tb\n");
    EXPECT_EQ(unescape("\\101\\0619"), "A19");
    EXPECT_EQ(unescape("\\q\\\\"), "q\\");
    EXPECT_EQ(unescape("end\\"), "end");
    EXPECT_EQ(unescape("\\a\\b\\f\\r\\v"), "\a\b\f\r\v");
}

TEST(SinkConfig, Atoi) {
    EXPECT_EQ(c_atoi("12"), 12);
    EXPECT_EQ(c_atoi("  7x"), 7);
    EXPECT_EQ(c_atoi("x"), 0);
    EXPECT_EQ(c_atoi("-3"), -3);
    EXPECT_EQ(c_atoi("99999999999"), 2147483647);
}

TEST(SinkDump, TemplateAndDirectories) {
    setenv("TZ", "UTC", 1);
    tzset();
    EXPECT_EQ(expand_template("%Y%m%d%H/%M.", 1164686700), "2006112804/05.");
    EXPECT_EQ(expand_template("", 0), "");
    std::string big(300, 'x');
    EXPECT_EQ(expand_template(big, 0), big);
    auto dir = std::filesystem::temp_directory_path() / ("pf-sink-test-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    EXPECT_TRUE(make_dirs((dir / "a" / "b").string(), 0755));
    EXPECT_TRUE(std::filesystem::is_directory(dir / "a" / "b"));
    EXPECT_TRUE(make_dirs((dir / "a" / "b").string() + "/", 0755));
    std::FILE* f = std::fopen((dir / "file").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
    EXPECT_FALSE(make_dirs((dir / "file" / "sub").string(), 0755));
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pf::smtp_sink
