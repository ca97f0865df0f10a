// Parsing spawn(8)'s master.cf command attributes (spawn_attr.h): the same
// order of checks as the reference, so the same entry fails with the same
// text; "user=name:" (an empty group) means the user's own group.
//
// Trust: the words come from master.cf (administrator); account names go
// only to the lookup functions.
#include "spawn_attr.h"

#include <grp.h>
#include <pwd.h>
#include <strings.h>

#include <fmt/core.h>

namespace pf::spawn {

namespace {

// "name=" at the start of word, without regard to case.
bool has_prefix(const std::string& word, std::string_view prefix) {
    return word.size() >= prefix.size() && ::strncasecmp(word.c_str(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

std::expected<SpawnAttr, std::string> parse_spawn_attr(const std::vector<std::string>& words,
                                                       const SpawnAccountLookup& lookup, const SpawnOwner& owner) {
    SpawnAttr attr;
    bool have_user = false;
    bool have_argv = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string& word = words[i];
        if (has_prefix(word, "user=")) {
            std::string user = word.substr(5);
            std::string group;
            bool have_group = false;
            if (auto colon = user.find(':'); colon != std::string::npos) {
                group = user.substr(colon + 1);
                user.erase(colon);
                have_group = !group.empty();
            }
            auto account = lookup.user(user);
            if (!account) return std::unexpected(fmt::format("unknown user name: {}", user));
            attr.uid = account->uid;
            attr.gid = account->gid;
            if (have_group) {
                auto gid = lookup.group(group);
                if (!gid) return std::unexpected(fmt::format("unknown group name: {}", group));
                attr.gid = *gid;
            }
            have_user = true;
        } else if (has_prefix(word, "argv=")) {
            attr.argv.push_back(word.substr(5));
            attr.argv.insert(attr.argv.end(), words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
            have_argv = true;
            break;
        } else {
            return std::unexpected(fmt::format("unknown attribute name: {}", word));
        }
    }
    if (!have_user) return std::unexpected(std::string("missing user= attribute"));
    if (!have_argv) return std::unexpected(std::string("missing argv= attribute"));
    if (attr.uid == 0) return std::unexpected(std::string("request to deliver as root"));
    if (attr.uid == owner.uid) return std::unexpected(std::string("request to deliver as mail system owner"));
    if (attr.gid == 0)
        return std::unexpected(fmt::format("request to use privileged group id {}", static_cast<long>(attr.gid)));
    if (attr.gid == owner.gid)
        return std::unexpected(
            fmt::format("request to use mail system owner group id {}", static_cast<long>(attr.gid)));
    if (attr.uid == static_cast<uid_t>(-1)) return std::unexpected(std::string("user must not have user ID -1"));
    if (attr.gid == static_cast<gid_t>(-1)) return std::unexpected(std::string("user must not have group ID -1"));
    return attr;
}

SpawnAccountLookup system_account_lookup() {
    SpawnAccountLookup lookup;
    lookup.user = [](const std::string& name) -> std::optional<SpawnAccountLookup::User> {
        struct passwd* pw = ::getpwnam(name.c_str());
        if (pw == nullptr) return std::nullopt;
        return SpawnAccountLookup::User{pw->pw_uid, pw->pw_gid};
    };
    lookup.group = [](const std::string& name) -> std::optional<gid_t> {
        struct group* gr = ::getgrnam(name.c_str());
        if (gr == nullptr) return std::nullopt;
        return gr->gr_gid;
    };
    return lookup;
}

}  // namespace pf::spawn
