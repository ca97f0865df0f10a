// Reading a bounce template file (bounce(5)): lines "name = value", where a
// value "<<MARKER" takes the following lines up to one that is exactly
// MARKER (a here-document); blank lines and lines starting with '#' are
// skipped; there are no continuation lines. Reproduces the reference's
// diagnostics: fatal "missing attribute name", "missing '=' after attribute
// name", "missing end marker after <<"; warnings "missing "X" end marker"
// and those of the entry callback. Every "line N" is one past the last line
// read, as the reference counts. Each line stops at its first NUL byte.
//
// Trust: the content is admin-written and may be anything; no input makes
// this code fail other than through a TemplateError.
#pragma once

#include "mail/bounce_template.h"

#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

struct TemplateFileEntry {
    std::string name;
    std::vector<std::string> lines;  // the value's lines (one unless a here-document)
    int line_number = 0;             // as the reference shows it in diagnostics
};

// Parses content (the file's bytes); origin names the file in diagnostics.
// on_entry is called for each entry in file order.
std::expected<void, TemplateError> read_template_file(std::string_view origin, std::string_view content,
                                                      const std::function<void(TemplateFileEntry&&)>& on_entry,
                                                      const WarningSink& warn = {});

}  // namespace pf::mail
