// authorized_submit_users, as sendmail(1) and postdrop(1) check it: a list
// of patterns matched against the login name of the real user ID ("uid:N"
// when it has none); "static:anyone" matches everyone, "type:table" is
// looked up by name, "!pattern" excludes, the first match decides and no
// match denies. Returns the user's name when denied, nullopt when allowed.
// A table lookup error denies (the reference fails closed too).
//
// Trust: the list is admin-written; the name comes from the password file.
#pragma once

#include "dict/dict_registry.h"
#include "util/brace_tokens.h"
#include "util/strings.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace pf::sendmail {

inline std::optional<std::string> check_submit_acl(std::string_view acl, uid_t uid) {
    std::string name;
    if (struct passwd* pw = ::getpwuid(uid)) name = pw->pw_name;
    else name = "uid:" + std::to_string(static_cast<long>(uid));
    std::string_view cursor = acl;
    while (auto token = util::next_braced_token(cursor, util::kListSeparators)) {
        std::string_view word = *token;
        bool negate = false;
        while (!word.empty() && word.front() == '!') {
            negate = !negate;
            word.remove_prefix(1);
        }
        bool match = false;
        if (word == "static:anyone") {
            match = true;
        } else if (word.find(':') != std::string_view::npos) {
            dict::register_builtin_types();
            auto table = dict::open(word, O_RDONLY, 0);
            if (!table) return name;
            auto found = (*table)->lookup(name);
            if (found.is_error()) return name;
            match = found.is_found();
        } else {
            match = util::iequals(word, name);
        }
        if (match) {
            if (negate) return name;
            return std::nullopt;
        }
    }
    return name;
}

}  // namespace pf::sendmail
