// The one privilege drop every daemon makes at start-up, in a fixed order:
// chroot (optional), chdir, setgroups to the primary group only, setresgid,
// setresuid, then a check that neither root uid nor root gid can be
// regained. The reference's daemons do the same steps (its set_ugid and
// chroot_uid); a failure is fatal for the caller.
//
// Trust: the uid/gid come from mail_owner, which the configuration checks
// already validated (check_mail_params).
#pragma once

#include <expected>
#include <functional>
#include <string>
#include <sys/types.h>

namespace pf::util {

// chroot_dir empty: no chroot. work_dir: the directory to be in afterwards
// (relative to the new root when chrooted; "/" when empty).
// Returns the reference-style diagnostic text on failure.
std::expected<void, std::string> drop_privileges(uid_t uid, gid_t gid, const std::string& chroot_dir,
                                                 const std::string& work_dir);

// Looks up a user name: its uid and primary gid, or an error text.
struct Account {
    uid_t uid;
    gid_t gid;
};
std::expected<Account, std::string> lookup_account(const std::string& name);
// Looks up a group name's gid.
std::expected<gid_t, std::string> lookup_group(const std::string& name);

// Runs body with the effective uid/gid of the account name when the
// process runs as root, then takes root back: files a daemon creates
// before its privilege drop (caches in data_directory) then belong to the
// mail system. An unknown account or a refused switch runs body as root;
// failing to take root back is fatal.
void run_as_user_if_root(const std::string& name, const std::function<void()>& body);

// Sets the effective gid (and, as root, the group list) and uid, taking
// root back first when needed (the reference's set_eugid): agents that
// keep root as their real uid work as mail_owner between deliveries.
// Failure is fatal.
void set_eugid(uid_t uid, gid_t gid);

}  // namespace pf::util
