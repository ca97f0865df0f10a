// User access lists (authorized_submit_users of sendmail(1) and
// postdrop(1), authorized_mailq_users and authorized_flush_users of
// postqueue(1)) as the reference checks them (its check_user_acl_byuid):
// a setting that
// starts with "static:" allows everyone without looking anything up;
// otherwise the login name of the real user ID ("unknown" when the
// password file has none) is matched against the list: patterns compare
// without regard to case, "type:table" entries are looked up by name,
// "!" excludes, the first match decides and no match denies. Returns the
// name when denied, nullopt when allowed. A table that cannot be opened
// or fails denies.
//
// Trust: the list is the administrator's; the name comes from the
// password file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace pf::mail {

std::optional<std::string> check_user_acl(std::string_view acl, uid_t uid);
// The same with a name already looked up (tests).
std::optional<std::string> check_user_acl_name(std::string_view acl, const std::string& name);

}  // namespace pf::mail
