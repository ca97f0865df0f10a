// Unit tests of the user access lists (mail/user_acl.h): the "static:"
// shortcut, first match decides, "!" excludes, no match denies, and the
// name "unknown" for a user ID the password file does not have.
#include "mail/user_acl.h"

#include <gtest/gtest.h>

namespace pf::mail {
namespace {

TEST(UserAcl, StaticAllowsEveryoneWithoutLookup) {
    EXPECT_EQ(check_user_acl("static:anyone", 0), std::nullopt);
    EXPECT_EQ(check_user_acl("static:whatever", 4000000000u), std::nullopt);
}

TEST(UserAcl, FirstMatchDecidesCaseInsensitively) {
    EXPECT_EQ(check_user_acl_name("root, Alice", "alice"), std::nullopt);
    EXPECT_EQ(check_user_acl_name("!alice, alice", "alice"), std::optional<std::string>("alice"));
    EXPECT_EQ(check_user_acl_name("alice, !alice", "alice"), std::nullopt);
    EXPECT_EQ(check_user_acl_name("!bob, static:anyone", "bob"), std::optional<std::string>("bob"));
    EXPECT_EQ(check_user_acl_name("!bob, static:anyone", "carol"), std::nullopt);
}

TEST(UserAcl, NoMatchDeniesWithTheName) {
    EXPECT_EQ(check_user_acl_name("root", "bob"), std::optional<std::string>("bob"));
    EXPECT_EQ(check_user_acl_name("", "bob"), std::optional<std::string>("bob"));
}

TEST(UserAcl, UnknownUidIsCalledUnknown) {
    EXPECT_EQ(check_user_acl("root", 4000000000u), std::optional<std::string>("unknown"));
    EXPECT_EQ(check_user_acl("!root, unknown", 4000000000u), std::nullopt);
}

}  // namespace
}  // namespace pf::mail
