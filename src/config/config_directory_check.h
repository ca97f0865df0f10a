// Which configuration directory an untrusted caller may name, as the
// reference decides when it reads main.cf: a set-gid program (postdrop,
// postqueue, postlog) run by an ordinary user, with a non-default
// directory from -c or MAIL_CONFIG, may use it only when the default
// main.cf lists it in alternate_config_directories or
// multi_instance_directories. Otherwise the program stops with the
// reference's diagnostics ("open file /etc/postfix/main.cf: ..." when that
// file is missing, else "unauthorized configuration directory name: DIR"
// and the advice what to add), before it reads the named directory.
//
// Trust: the directory name comes from the invoking user; the default
// main.cf from the administrator.
#pragma once

#include <string>

namespace pf::config {

// The reference's unsafe(): true unless the real and effective IDs are all
// root, or when the process runs with borrowed rights (set-uid/set-gid).
bool running_with_borrowed_rights();

// Applies the rule above to dir (fatal when it is not allowed). Does
// nothing for the default directory, a trusted caller, or effective root.
// untrusted: apply it whatever the process's rights (sendmail -C run by
// an ordinary user, as the reference's sendmail checks it).
void check_config_directory_allowed(const std::string& dir, bool untrusted = false);

}  // namespace pf::config
