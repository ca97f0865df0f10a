// spawn(8)'s command attributes: the words after the daemon options in its
// master.cf entry, "user=name[:group]" then "argv=command args..." (argv=
// last: every word after it belongs to the command). Attribute names are
// matched without regard to case, as the reference does. The checks and
// their fatal texts are the reference's: an unknown user or group, an
// unknown attribute, a missing user= or argv=, and an identity that is
// root, the mail system owner, group 0 or the owner's group, or -1.
// The reference parses these at the first connection (so a bad entry costs
// that connection); so does spawn.cpp.
//
// Trust: master.cf is written by the administrator; account names are
// looked up through the caller's functions (getpwnam/getgrnam in the
// daemon, tables in the unit tests).
#pragma once

#include <sys/types.h>

#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pf::spawn {

struct SpawnAttr {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::string> argv;  // the argv= word (minus "argv=") and the words after it
};

struct SpawnAccountLookup {
    struct User {
        uid_t uid;
        gid_t gid;
    };
    std::function<std::optional<User>(const std::string&)> user;
    std::function<std::optional<gid_t>(const std::string&)> group;
};

// The mail system owner's ids (mail_owner), which the command must not use.
struct SpawnOwner {
    uid_t uid = 0;
    gid_t gid = 0;
};

// Parses the words; the error is the reference's fatal text.
std::expected<SpawnAttr, std::string> parse_spawn_attr(const std::vector<std::string>& words,
                                                       const SpawnAccountLookup& lookup, const SpawnOwner& owner);

// getpwnam/getgrnam.
SpawnAccountLookup system_account_lookup();

}  // namespace pf::spawn
