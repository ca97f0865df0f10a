// postmulti(1)'s instance model: selection by name, group and "-", the
// name checks, default private paths, "name=value" path settings and
// claims, with the reference's messages (observed on 3.7.11).
#include "cmd/postmulti/multi_instance.h"

#include <gtest/gtest.h>

namespace pf::postmulti {
namespace {

Instance make(std::string dir, std::optional<std::string> name, std::optional<std::string> group,
              bool primary = false) {
    Instance ip;
    ip.config_dir = std::move(dir);
    ip.name = std::move(name);
    ip.group = std::move(group);
    ip.primary = primary;
    return ip;
}

TEST(PostmultiSelect, ByNameWithAndWithoutPrefix) {
    Instance a = make("/etc/postfix-a", "postfix-a", "g1");
    EXPECT_TRUE(matches(a, {SelectType::name, "postfix-a"}));
    EXPECT_TRUE(matches(a, {SelectType::name, "a"}));
    EXPECT_TRUE(matches(a, {SelectType::name, "/etc/postfix-a"}));
    EXPECT_FALSE(matches(a, {SelectType::name, "postfix-b"}));
    EXPECT_FALSE(matches(a, {SelectType::name, "-"}));
    EXPECT_FALSE(matches(a, {SelectType::name, "postfix-"}));
}

TEST(PostmultiSelect, UnnamedByDirectoryOnly) {
    Instance c = make("/etc/postfix-c", std::nullopt, std::nullopt);
    EXPECT_TRUE(matches(c, {SelectType::name, "/etc/postfix-c"}));
    EXPECT_FALSE(matches(c, {SelectType::name, "c"}));
    EXPECT_FALSE(matches(c, {SelectType::group, ""}));
}

TEST(PostmultiSelect, DashIsThePrimary) {
    Instance p = make("/etc/postfix", "postfix-main", std::nullopt, true);
    EXPECT_TRUE(matches(p, {SelectType::name, "-"}));
    EXPECT_TRUE(matches(p, {SelectType::name, "main"}));
    EXPECT_FALSE(matches(p, {SelectType::none, ""}));
    EXPECT_TRUE(matches(p, {SelectType::all, ""}));
}

TEST(PostmultiSelect, ByGroup) {
    Instance a = make("/etc/postfix-a", "postfix-a", "g1");
    EXPECT_TRUE(matches(a, {SelectType::group, "g1"}));
    EXPECT_FALSE(matches(a, {SelectType::group, "g"}));
}

TEST(PostmultiNames, SafeCharacters) {
    EXPECT_TRUE(is_safe_name("postfix-a.b_c+d=e:f@g%h!i/j"));
    EXPECT_FALSE(is_safe_name(""));
    EXPECT_FALSE(is_safe_name("a b"));
    EXPECT_FALSE(is_safe_name("a;b"));
    EXPECT_FALSE(is_safe_name("a\nb"));
}

TEST(PostmultiNames, AssignmentMessages) {
    EXPECT_TRUE(check_assignment("postfix-x", "g").has_value());
    EXPECT_TRUE(check_assignment("", "").has_value());  // "-" (cleared) is always valid
    EXPECT_EQ(check_assignment("bad", std::nullopt).error(), "New instance name must start with 'postfix-'");
    EXPECT_EQ(check_assignment("postfix-a b", std::nullopt).error(),
              "Unsafe characters in new instance name: 'postfix-a b'");
    EXPECT_EQ(check_assignment("postfix-a/b", std::nullopt).error(),
              "Illegal '/' character in new instance name: 'postfix-a/b'");
    EXPECT_EQ(check_assignment(std::nullopt, "a;b").error(), "Unsafe characters in '-G a;b'");
}

TEST(PostmultiPaths, DefaultPrivatePath) {
    EXPECT_EQ(*private_path("queue_directory", "/var/spool/postfix", "postfix-out"), "/var/spool/postfix-out");
    EXPECT_EQ(*private_path("config_directory", "/etc/postfix", "postfix-out"), "/etc/postfix-out");
    // As the reference: one trailing slash keeps the last component, two
    // or more do not; a top-level component stays.
    EXPECT_EQ(*private_path("data_directory", "/var/lib/", "postfix-x"), "/var/lib/postfix-x");
    EXPECT_EQ(*private_path("data_directory", "/var//lib//", "postfix-x"), "/var/postfix-x");
    EXPECT_EQ(*private_path("data_directory", "/var", "postfix-x"), "/var/postfix-x");
    EXPECT_EQ(*private_path("data_directory", "/", "postfix-x"), "/postfix-x");
    EXPECT_EQ(*private_path("data_directory", "/a//b", "postfix-x"), "/a/postfix-x");
    EXPECT_EQ(private_path("queue_directory", "/x", std::nullopt).error(), "Missing queue_directory parameter value");
    EXPECT_EQ(private_path("queue_directory", "/x", "").error(), "Missing queue_directory parameter value");
    EXPECT_EQ(private_path("queue_directory", "spool", "postfix-x").error(),
              "Invalid default queue_directory parameter value: 'spool': specify an absolute pathname");
}

TEST(PostmultiPaths, SettingArguments) {
    auto s = parse_path_setting("queue_directory = /var/spool/px//", false, "create");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->name, "queue_directory");
    EXPECT_EQ(s->value, "/var/spool/px");
    EXPECT_EQ(parse_path_setting("junk", false, "create").error(), "Malformed parameter setting 'junk'");
    EXPECT_EQ(parse_path_setting("=x", false, "create").error(), "Malformed parameter setting '=x'");
    EXPECT_EQ(parse_path_setting("foo=/x", false, "create").error(), "Parameter 'foo' not valid with action create");
    EXPECT_EQ(parse_path_setting("queue_directory=/x", true, "import").error(),
              "Parameter 'queue_directory' not valid with action import");
    EXPECT_TRUE(parse_path_setting("config_directory=/x", true, "import").has_value());
    EXPECT_EQ(parse_path_setting("data_directory=rel", false, "create").error(),
              "Parameter setting 'data_directory' is not an absolute path");
    EXPECT_EQ(parse_path_setting("data_directory=", false, "create").error(),
              "Parameter setting 'data_directory' is not an absolute path");
    EXPECT_EQ(parse_path_setting("data_directory=//", false, "create").error(),
              "Parameter setting 'data_directory' is the root directory");
}

TEST(PostmultiLists, WordInList) {
    EXPECT_TRUE(word_in_list("stop abort, drain quick-stop", "drain"));
    EXPECT_FALSE(word_in_list("stop abort", "sto"));
    EXPECT_FALSE(word_in_list("", "stop"));
}

TEST(PostmultiLists, ListLine) {
    Instance a = make("/etc/postfix-a", "postfix-a", std::nullopt);
    a.enabled = true;
    EXPECT_EQ(list_line(a), "postfix-a       -               y         /etc/postfix-a\n");
    Instance long_name = make("/x", "postfix-a-very-long-name", "g");
    EXPECT_EQ(list_line(long_name), "postfix-a-very-long-name g               n         /x\n");
}

TEST(PostmultiClaims, ConflictMessage) {
    ClaimTable t;
    EXPECT_TRUE(t.claim("/etc/postfix", "queue_directory", "/q").has_value());
    EXPECT_TRUE(t.claim("/etc/postfix", "queue_directory", "/q").has_value());  // same owner again
    auto r = t.claim("/etc/postfix-a", "data_directory", "/q");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(),
              "instance /etc/postfix-a, data_directory=/q conflicts with instance /etc/postfix, queue_directory=/q");
    ASSERT_NE(t.owner("/q"), nullptr);
    EXPECT_EQ(*t.owner("/q"), "/etc/postfix, queue_directory");
    EXPECT_EQ(t.owner("/nope"), nullptr);
}

}  // namespace
}  // namespace pf::postmulti
