// What pcre: and regexp: tables have in common (pcre_table(5),
// regexp_table(5) of the reference): the rule file and its evaluation.
//
// A rule file holds, one per logical line (the logical lines of table_source.h):
//   [!]/pattern/flags result     first matching rule wins; '!' (repeatable,
//                                white space allowed after it) negates
//   [!]/pat1/flags!/pat2/flags result   regexp only: pat1 must match and
//                                pat2 must not (each '!' flips that again);
//                                $n refers to pat1's groups
//   if [!]/pattern/flags         the rules up to the matching "endif" apply
//   endif                        only when the pattern matches (nestable)
// "if"/"endif" are recognised case-insensitively when the line starts with
// a letter or digit; any other first byte is the pattern delimiter. A
// backslash escapes the delimiter (the backslash stays in the pattern). Each
// flag letter toggles an engine option. Bad lines are reported as
// "<kind> map <file>, line <n>: ..." and skipped, in the reference's order of
// checks; lookups evaluate the rules in file order.
//
// Trust: the rule file is the administrator's, but any byte sequence is
// handled; keys are arbitrary bytes (cut at the first NUL, as the
// reference's C strings are).
#pragma once

#include "dict/dict_registry.h"
#include "dict/pattern_replacement.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::dict {

// Where a rule came from, for diagnostics.
struct RuleSite {
    std::string_view kind;  // "pcre" or "regexp"
    std::string_view path;
    int lineno;
    void warn(std::string_view text) const;
};

// One compiled pattern of an engine.
class CompiledPattern {
public:
    virtual ~CompiledPattern() = default;
    enum class Outcome { match, no_match, error };
    // Sub-expressions the pattern has.
    virtual size_t capture_count() const = 0;
    // key is NUL-terminated at key.size(). When groups is given and the key
    // matches, groups receives the text of each sub-expression 1..capture
    // count (nullopt: did not take part). Errors are reported by the engine.
    virtual Outcome match(std::string_view key, std::vector<std::optional<std::string_view>>* groups,
                          const RuleSite& site) = 0;
};

// The regular-expression library behind a table type.
class PatternEngine {
public:
    virtual ~PatternEngine() = default;
    virtual std::string_view kind() const = 0;
    // How a missing closing delimiter is reported: "ignoring this rule"
    // (pcre) or "skipping this rule" (regexp).
    virtual std::string_view missing_delimiter_action() const = 0;
    // regexp takes a backslash at the end of the line as the delimiter.
    virtual bool backslash_at_end_closes() const = 0;
    // "out of range" (pcre) or "out-of-range" (regexp), for "$0".
    virtual std::string_view zero_index_words() const = 0;
    // regexp rules may add "!/pattern2/flags" (flags then end at '!').
    virtual bool second_pattern() const = 0;
    // Applies flag letters to the default options; reports and returns
    // nullopt on an unknown letter.
    virtual std::optional<uint32_t> parse_flags(std::string_view letters, const RuleSite& site) const = 0;
    // Compiles; reports and returns null on error. want_groups is false
    // when the rule never needs sub-expression text.
    virtual std::unique_ptr<CompiledPattern> compile(const std::string& pattern, uint32_t options, bool want_groups,
                                                     const RuleSite& site) const = 0;
};

// The two engines (dict_pcre.cpp, dict_regexp.cpp).
std::unique_ptr<PatternEngine> make_pcre_engine();
std::unique_ptr<PatternEngine> make_regexp_engine();

// Opens a pcre/regexp table backed by engine: checks the access mode, reads
// and parses the file (warnings for bad rules), and returns the table.
OpenResult open_pattern_table(std::unique_ptr<PatternEngine> engine, std::string_view name, int open_flags,
                              Flags flags);

// The same from text already in memory (unit tests, fuzzing).
DictPtr pattern_table_from_text(std::unique_ptr<PatternEngine> engine, std::string_view name,
                                std::string_view content, Flags flags);

}  // namespace pf::dict
