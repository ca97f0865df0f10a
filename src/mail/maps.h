// A list of lookup tables named by one parameter (canonical_maps,
// virtual_alias_maps, header_checks, ...), searched in order as the
// reference's programs search such a list: the first table that answers
// wins; a table error stops the search and is reported as an error (never
// as "not found"). A search may be limited to exact-match tables (the
// partial keys of address lookups skip regexp/pcre/cidr tables).
//
// Trust: keys are outside input; the tables do their own bounds checks.
#pragma once

#include "dict/dict.h"

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

class Maps {
public:
    Maps() = default;
    // Opens every "type:name" in value (separated by commas or blanks,
    // braces respected). title is the parameter name, used in diagnostics.
    // Error: the first table that failed to open, in the dict layer's words.
    static std::expected<Maps, std::string> open(std::string title, std::string_view value, dict::Flags flags);
    // For tests: tables already open.
    static Maps from_tables(std::string title, std::vector<dict::DictPtr> tables);

    Maps(Maps&&) noexcept = default;
    Maps& operator=(Maps&&) noexcept = default;

    const std::string& title() const { return title_; }
    bool empty() const { return tables_.empty(); }

    // fixed_only: skip pattern tables.
    dict::LookupResult find(std::string_view key, bool fixed_only = false) const;

    // With warnings on, a table error is logged as the reference's
    // maps_find does ("<type>:<name> lookup error for "<key>""); off by
    // default (callers that log their own words).
    void set_warn_errors(bool on) { warn_errors_ = on; }

private:
    std::string title_;
    std::vector<dict::DictPtr> tables_;
    bool warn_errors_ = false;
};

}  // namespace pf::mail
