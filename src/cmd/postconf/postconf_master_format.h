// postconf(1): the master.cf pieces shared by the display (-M, -F, -P) and
// the editor (-Me, -MX, -M#, -Fe, -Pe, -PX): service patterns, per-service
// settings, and the reference's layout of an entry.
//
// Trust: entries come from config::parse_master_entry; text is printed as is.
#pragma once

#include "postconf.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pf::postconf {

// Lines are folded before this column (postconf -Mf, -Ff and the editor).
inline constexpr size_t kFoldLimit = 79;

// "name/type/leaf" with trailing slashes removed, split on '/'; empty parts
// are kept ("smtp//chroot" has an empty type). Empty when arg is.
std::vector<std::string> split_service_pattern(std::string_view arg);

// Settings per "name/type", as the reference keeps them: services with the
// same name and type share one set (later settings replace earlier ones); a
// service without "-o" settings shares the set only when an earlier service
// of that name and type made one, else it has none.
struct MasterDicts {
    using Dict = std::map<std::string, std::string, std::less<>>;
    std::map<std::string, Dict> by_key;
    std::map<const config::MasterEntry*, const Dict*> of_entry;
    // The settings of an entry of the vector the dicts were built from.
    const Dict* find(const config::MasterEntry& e) const {
        auto it = of_entry.find(&e);
        return it == of_entry.end() ? nullptr : it->second;
    }
};
MasterDicts build_master_dicts(const std::vector<config::MasterEntry>& entries);

// Expands text in a service's scope: its settings, then service_name and
// process_name, then main.cf. A syntax error is fatal.
std::string expand_in_service(const State& st, const MasterDicts& dicts, const config::MasterEntry& e,
                              std::string_view text);

// Whether e.args[index] is the value of a "-o" among the leading options;
// is_taken_value: of any option word that takes one ("-o...", a lone "-").
bool is_option_value(const config::MasterEntry& e, size_t index);
bool is_taken_value(const config::MasterEntry& e, size_t index);

// One argument as shown: "-o" values expanded when asked, words with white
// space in braces (except the word that ends the options). width is the
// length the reference folds by: without those braces.
struct ShownArg {
    std::string text;
    size_t width;
};
std::vector<ShownArg> display_args(const State* st, const MasterDicts* dicts, const config::MasterEntry& e);

// Appends the shown arguments to line (which holds the fields, "name =
// command" or, with -h, the command alone), folding with fold. A word gets a
// blank before it only when the line is longer than the four-blank indent
// (the reference's "postconf -Fh" shows "smtp x" as "smtpx"). Returns the
// text with its final newline.
std::string format_arguments(std::string line, const config::MasterEntry& e, const std::vector<ShownArg>& shown,
                             bool fold);

// An entry as postconf -M (fold: -Mf) prints it, and as the editor writes it.
std::string format_master_entry(const config::MasterEntry& e, const std::vector<ShownArg>& shown, bool fold);

// Warns "master.cf: unused parameter: name=value" for settings no value
// refers to (after analyse_user_parameters and check_database_tables).
void warn_unused_master_parameters(const State& st);

}  // namespace pf::postconf
