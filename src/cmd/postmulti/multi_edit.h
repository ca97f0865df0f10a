// The management actions of postmulti(1) ("postmulti -e action"): init,
// create, import, destroy, deport, enable, disable, assign. The reference
// hands each to its postmulti-script helper; we do the same steps in
// process, with the same effects on main.cf files and directories and the
// same messages, logged as "<syslog_name>/postmulti-script" (and copied to
// stderr when it is a terminal). main.cf edits go through
// "$command_directory/postconf -e" and the new instance's file rights
// through "postfix -c dir set-permissions", as the helper's do.
//
// Trust: the request was checked by postmulti.cpp (names, absolute paths,
// conflicts); main.cf files are admin-written. Programs run without a shell.
#pragma once

#include "cmd/postmulti/multi_instance.h"
#include "config/config.h"

#include <optional>
#include <string>
#include <string_view>

namespace pf::postmulti {

enum class EditAction { init, create, import, destroy, deport, enable, disable, assign };

// "create" -> EditAction::create; nullopt for anything else (case matters).
std::optional<EditAction> parse_edit_action(std::string_view word);
const char* edit_action_name(EditAction action);

struct EditRequest {
    EditAction action;
    const config::Config& primary;
    Instance target{};
    // The new multi_instance_directories of the primary (create, import,
    // destroy, deport).
    std::optional<std::string> multi_dirs{};
    // A new instance name or group; "-" clears it.
    std::optional<std::string> new_name{};
    std::optional<std::string> new_group{};
};

// Does the action; the exit status.
int run_edit(const EditRequest& request);

// PATH becomes "<command_directory>:<PATH or the root default>".
void prepend_command_path(const std::string& command_directory);

}  // namespace pf::postmulti
