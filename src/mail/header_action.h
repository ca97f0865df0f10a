// The actions of header_checks, mime_header_checks, nested_header_checks
// and body_checks, as the reference's cleanup reads a table's answer: the
// first word (case-insensitive) names the action, the rest (after blanks)
// is its text. Which actions need text, and the checks on that text, are
// the callers' (they log the reference's warnings).
//
// Trust: table answers are the admin's; messages are not involved here.
#pragma once

#include <string>
#include <string_view>

namespace pf::mail {

enum class CheckAction {
    reject, warn, info, filter, pass, discard, hold, prepend, replace, redirect, bcc, strip, ignore, dunno, ok,
    unknown,
};

struct ParsedAction {
    CheckAction action = CheckAction::unknown;
    std::string_view text;  // after the command and its blanks
};

ParsedAction parse_check_action(std::string_view value);

// Whether text looks like "Name: value" (the reference's is_header()).
bool is_header_text(std::string_view text);

}  // namespace pf::mail
