// User access lists; see user_acl.h.
#include "mail/user_acl.h"

#include "dict/dict_registry.h"
#include "util/brace_tokens.h"
#include "util/strings.h"

#include <fcntl.h>
#include <pwd.h>

namespace pf::mail {

std::optional<std::string> check_user_acl_name(std::string_view acl, const std::string& name) {
    std::string_view cursor = acl;
    while (auto token = util::next_braced_token(cursor, util::kListSeparators)) {
        std::string_view word = *token;
        bool negate = false;
        while (!word.empty() && word.front() == '!') {
            negate = !negate;
            word.remove_prefix(1);
        }
        bool match = false;
        if (word.find(':') != std::string_view::npos) {
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

std::optional<std::string> check_user_acl(std::string_view acl, uid_t uid) {
    // The common case needs no password lookup at all.
    if (acl.starts_with("static:")) return std::nullopt;
    std::string name = "unknown";
    if (struct passwd* pw = ::getpwuid(uid)) name = pw->pw_name;
    return check_user_acl_name(acl, name);
}

}  // namespace pf::mail
