// regexp:/file — the pattern table of regexp_table(5), on the C library's
// POSIX regular expressions. Rule syntax and evaluation are shared with
// pcre: (dict_pattern.h); this file adds the POSIX side: the default options
// are extended syntax and case-insensitive matching; flags toggle them:
// i (REG_ICASE), x (REG_EXTENDED), m (REG_NEWLINE). Compile and match errors
// are reported with regerror()'s text. A backslash at the very end of a
// pattern acts as its closing delimiter, and a rule may add a second
// pattern that must not match ("/pat1/!/pat2/ result"), as in the
// reference.
//
// Trust: patterns come from the administrator's file; keys are arbitrary
// bytes cut at the first NUL.
#include "dict/dict_pattern.h"

#include <regex.h>

#include <fmt/core.h>

namespace pf::dict {
namespace {

std::string regex_error_text(int code, const regex_t* re) {
    char buf[256];
    regerror(code, re, buf, sizeof buf);
    return buf;
}

// Owns a compiled regex_t; move-only, frees it on destruction.
class RegexHandle {
public:
    RegexHandle() = default;
    RegexHandle(const RegexHandle&) = delete;
    RegexHandle& operator=(const RegexHandle&) = delete;
    ~RegexHandle() {
        if (compiled_) regfree(&re_);
    }
    // Returns 0 or the regcomp() error code.
    int compile(const std::string& pattern, int cflags) {
        int rc = regcomp(&re_, pattern.c_str(), cflags);
        compiled_ = rc == 0;
        return rc;
    }
    regex_t* get() { return &re_; }
    const regex_t* get() const { return &re_; }

private:
    regex_t re_{};
    bool compiled_ = false;
};

class PosixPattern final : public CompiledPattern {
public:
    explicit PosixPattern(std::unique_ptr<RegexHandle> re, bool want_groups)
        : re_(std::move(re)), want_groups_(want_groups) {}

    size_t capture_count() const override { return re_->get()->re_nsub; }

    Outcome match(std::string_view key, std::vector<std::optional<std::string_view>>* groups,
                  const RuleSite& site) override {
        // key is NUL-terminated at key.size() (a std::string's data).
        size_t nmatch = groups && want_groups_ ? capture_count() + 1 : 0;
        matches_.resize(nmatch);
        int rc = regexec(re_->get(), key.data(), nmatch, nmatch ? matches_.data() : nullptr, 0);
        if (rc == REG_NOMATCH) return Outcome::no_match;
        if (rc != 0) {
            site.warn(regex_error_text(rc, re_->get()));
            return Outcome::error;
        }
        if (groups) {
            groups->assign(capture_count(), std::nullopt);
            for (size_t n = 1; n < nmatch; ++n) {
                if (matches_[n].rm_so < 0) continue;
                (*groups)[n - 1] = key.substr(static_cast<size_t>(matches_[n].rm_so),
                                              static_cast<size_t>(matches_[n].rm_eo - matches_[n].rm_so));
            }
        }
        return Outcome::match;
    }

private:
    std::unique_ptr<RegexHandle> re_;
    bool want_groups_;
    std::vector<regmatch_t> matches_;
};

class PosixEngine final : public PatternEngine {
public:
    std::string_view kind() const override { return "regexp"; }
    std::string_view missing_delimiter_action() const override { return "skipping this rule"; }
    bool backslash_at_end_closes() const override { return true; }
    std::string_view zero_index_words() const override { return "out-of-range"; }
    bool second_pattern() const override { return true; }

    std::optional<uint32_t> parse_flags(std::string_view letters, const RuleSite& site) const override {
        uint32_t options = REG_EXTENDED | REG_ICASE;
        for (char c : letters) {
            switch (c) {
            case 'i': options ^= REG_ICASE; break;
            case 'x': options ^= REG_EXTENDED; break;
            case 'm': options ^= REG_NEWLINE; break;
            default:
                site.warn(fmt::format("unknown regexp option \"{}\": skipping this rule", std::string(1, c)));
                return std::nullopt;
            }
        }
        return options;
    }

    std::unique_ptr<CompiledPattern> compile(const std::string& pattern, uint32_t options, bool want_groups,
                                             const RuleSite& site) const override {
        auto re = std::make_unique<RegexHandle>();
        int cflags = static_cast<int>(options) | (want_groups ? 0 : REG_NOSUB);
        int rc = re->compile(pattern, cflags);
        if (rc != 0) {
            site.warn(regex_error_text(rc, re->get()));
            return nullptr;
        }
        return std::make_unique<PosixPattern>(std::move(re), want_groups);
    }
};

}  // namespace

std::unique_ptr<PatternEngine> make_regexp_engine() { return std::make_unique<PosixEngine>(); }

void register_regexp_type() {
    register_type("regexp", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        return open_pattern_table(make_regexp_engine(), name, open_flags, flags);
    });
}

}  // namespace pf::dict
