// Expansion of bounce template text against the configuration, as the
// reference's bounce daemon does for a notice and for "postconf -b":
// $name and the other main.cf(5) forms, where a name is defined when the
// bounce daemon knows it (bounce_parameters.h) or main.cf / -o sets it; and
// the time names <param>_seconds, _minutes, _hours, _days, _weeks of
// delay_warning_time and maximal_queue_lifetime, with the reference's
// warnings about results that are zero or too large for their unit.
// Reproduces its fatal errors: "bad $name syntax in <kind> template: <line>",
// "undefined $name in <kind> template: <line>", "unrecognized suffix".
//
// Trust: the template text is admin-written; every malformed construct
// becomes a warning or a TemplateError.
#pragma once

#include "config/config.h"
#include "mail/bounce_template.h"

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

class TemplateExpander {
public:
    explicit TemplateExpander(const config::Config& config) : config_(config) {}

    // One line of a template's body (or any text of it), expanded.
    std::expected<std::string, TemplateError> expand_line(const BounceTemplate& tmpl, std::string_view line,
                                                          const WarningSink& warn = {}) const;

    // The whole body, line by line; stops at the first error.
    std::expected<std::vector<std::string>, TemplateError> expanded_body(const BounceTemplate& tmpl,
                                                                         const WarningSink& warn = {}) const;

    // The "postconf -b" form of a template: "expanded_<kind>_text = <<EOF",
    // the expanded body, "EOF".
    std::expected<std::string, TemplateError> expanded_text(const BounceTemplate& tmpl,
                                                            const WarningSink& warn = {}) const;

private:
    bool is_defined(std::string_view name) const;

    const config::Config& config_;
};

}  // namespace pf::mail
