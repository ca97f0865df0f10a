// local(8) $name expansion of forward_path, luser_relay, mailbox_command
// and command_execution_directory, as the reference's local_expand: the
// names user, home, shell, domain, local, mailbox (= local), recipient,
// extension and recipient_delimiter (the byte that actually separated
// the extension), with main.cf's ${name?text} / ${name:text} forms.
// Bytes of a substituted value outside the filter become '_'. A plain
// reference to a name without value marks the result "undefined" (a
// forward_path entry is then skipped); a reference to the extension marks
// it "extension matched" (the extension is then not propagated).
//
// Trust: values come from the recipient address (outside input): they
// pass the filter; the pattern comes from main.cf.
#include "local.h"

#include "config/expand.h"

namespace pf::local {

namespace {

std::string filtered(std::string_view value, std::string_view filter) {
    std::string out(value);
    if (filter.empty()) return out;
    for (char& c : out)
        if (filter.find(c) == std::string_view::npos) c = '_';
    return out;
}

}  // namespace

LocalExpansion local_expand(std::string_view pattern, const MsgAttr& attr, const UserAttr& usr,
                            std::string_view filter) {
    LocalExpansion result;
    config::ExpandHooks hooks;
    hooks.recurse = false;
    hooks.lookup = [&](std::string_view name) -> std::optional<std::string> {
        std::optional<std::string> value;
        if (name == "user")
            value = attr.user;
        else if (name == "home")
            value = usr.home;
        else if (name == "shell")
            value = usr.shell;
        else if (name == "domain")
            value = attr.domain;
        else if (name == "local" || name == "mailbox")
            value = attr.local;
        else if (name == "recipient")
            value = attr.rcpt.address;
        else if (name == "extension") {
            if (attr.extension) result.status |= kExpandExtensionMatched;
            value = attr.extension;
        } else if (name == "recipient_delimiter") {
            if (attr.local.size() > attr.user.size()) value = std::string(1, attr.local[attr.user.size()]);
        }
        if (!value) return std::nullopt;
        return filtered(*value, filter);
    };
    hooks.on_undefined_plain = [&](std::string_view) { result.status |= kExpandUndefined; };
    config::ExpandResult r = config::expand(pattern, hooks);
    if (r.status != config::ExpandStatus::ok) result.status |= kExpandError;
    result.text = std::move(r.text);
    return result;
}

}  // namespace pf::local
