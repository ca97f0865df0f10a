// Header/body check actions; see header_action.h.
#include "mail/header_action.h"

#include "mail/mime_state.h"
#include "util/strings.h"

namespace pf::mail {

ParsedAction parse_check_action(std::string_view value) {
    size_t n = value.find_first_of(" \t");
    std::string_view command = value.substr(0, n);
    std::string_view text = n == std::string_view::npos ? std::string_view() : value.substr(n);
    while (!text.empty() && util::is_space(text.front())) text.remove_prefix(1);
    static const struct {
        const char* name;
        CheckAction action;
    } kNames[] = {
        {"REJECT", CheckAction::reject},   {"WARN", CheckAction::warn},       {"INFO", CheckAction::info},
        {"FILTER", CheckAction::filter},   {"PASS", CheckAction::pass},       {"DISCARD", CheckAction::discard},
        {"HOLD", CheckAction::hold},       {"PREPEND", CheckAction::prepend}, {"REPLACE", CheckAction::replace},
        {"REDIRECT", CheckAction::redirect}, {"BCC", CheckAction::bcc},       {"STRIP", CheckAction::strip},
        {"IGNORE", CheckAction::ignore},   {"DUNNO", CheckAction::dunno},     {"OK", CheckAction::ok},
    };
    for (const auto& e : kNames)
        if (util::iequals(command, e.name)) return {e.action, text};
    return {CheckAction::unknown, text};
}

bool is_header_text(std::string_view text) { return header_name_length(text) > 0; }

}  // namespace pf::mail
