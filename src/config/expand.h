// Parameter expansion as main.cf(5) defines it: $name, ${name}, $(name),
// ${name?text}, ${name:text}, ${name?{text}:{text}}, ${name:{text}}, $$, and the
// relational form ${{a} OP {b} ? {t} : {f}} with ==, !=, <, <=, >, >= and the
// compatibility-level operators <level, <=level, >level, >=level, ==level, !=level.
//
// Trust: the text comes from configuration files and the command line; every
// malformed construct is reported in the reference's words, never a crash.
// Recursion is bounded (the reference's limit of 100 nested calls).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pf::config {

struct ExpandHooks {
    // The raw value of a parameter, or nullopt when it is not defined.
    std::function<std::optional<std::string>(std::string_view name)> lookup;
    // Called once per reference to an undefined parameter (may be empty).
    std::function<void(std::string_view name)> on_undefined;
    // Called for a plain reference ($name, ${name}, $(name)) to an undefined
    // parameter, not for the tests ${name?..} and ${name:..} (may be empty).
    std::function<void(std::string_view name)> on_undefined_plain;
    // Called for every parameter name the text refers to (scan mode and expand).
    std::function<void(std::string_view name)> on_reference;
    // Expand the values of referenced parameters recursively.
    bool recurse = true;
    // Scan mode: visit every branch, report references and produce no text.
    // Values are looked up only for the operands of relational expressions.
    bool scan_only = false;
};

enum class ExpandStatus { ok, syntax_error, nesting_error };

struct ExpandResult {
    std::string text;
    ExpandStatus status = ExpandStatus::ok;
};

// Expands text. Syntax errors are reported with msg_warn in the reference's
// wording and make status syntax_error; the caller decides what is fatal.
ExpandResult expand(std::string_view text, const ExpandHooks& hooks);

// Compares two compatibility levels ("2", "3.6", "3.10.1"); returns <0, 0, >0,
// or nullopt when either is not a valid level.
std::optional<int> compare_compat_levels(std::string_view a, std::string_view b);

}  // namespace pf::config
