// pcre:/file — the pattern table of pcre_table(5), on the PCRE2 library.
// Rule syntax and evaluation are shared with regexp: (dict_pattern.h); this
// file adds the PCRE2 side: flags toggle the options, whose defaults are
// case-insensitive matching and '.' matching newlines (for multi-line
// headers): i caseless, m multiline, s dotall,
// x extended, A anchored, E dollar-end-only, U ungreedy, X obsolete (warned
// and ignored); patterns are bytes (no UTF mode), the C-locale tables of the
// library; match limits are the library's defaults, as the reference leaves
// them, so the same keys hit "match limit exceeded" (reported, rule skipped).
// For that reason there is no JIT (its limits count differently); instead a
// pattern anchored on a literal prefix skips the library for keys that do
// not start with it (literal_prefix() below).
//
// Trust: patterns come from the administrator's file; keys are arbitrary
// bytes. PCRE2 bounds the work of one match by its match/depth/heap limits.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "dict/dict_pattern.h"

#include <fmt/core.h>
#include <pcre2.h>

namespace pf::dict {
namespace {

std::string pcre_error_text(int code) {
    PCRE2_UCHAR buf[256];
    int n = pcre2_get_error_message(code, buf, sizeof buf);
    if (n < 0) return fmt::format("unexpected pcre2 error code {}", code);
    return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

// Move-only owners of the library's objects.
struct CodeFree {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct MatchDataFree {
    void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};
using CodeHandle = std::unique_ptr<pcre2_code, CodeFree>;
using MatchDataHandle = std::unique_ptr<pcre2_match_data, MatchDataFree>;

// The ASCII lower case of the PCRE2 C-locale tables (non-UTF mode).
char lower(char c) { return static_cast<unsigned char>(c - 'A') < 26 ? static_cast<char>(c + ('a' - 'A')) : c; }

// The literal text every match of pattern must start with, at offset 0 of
// the subject; empty when that cannot be shown from the text alone. Only
// the plain case is recognised, conservatively: the pattern opens with '^'
// (MULTILINE and EXTENDED off, so '^' is the subject's start and the text
// is literal), has no top-level '|' and none of the constructs that could
// hide one from this simple scan (\Q, '#', "[:"-style class items,
// callouts, verbs); the letters, digits, '@', '_' and '-' right after '^'
// are the prefix, less the last one when a quantifier follows. For a
// subject that does not start with it, pcre2_match() answers "no match"
// after a few comparisons at offset 0, far below any of its limits, so
// skipping the call changes no answer and no warning.
std::string literal_prefix(const std::string& p, uint32_t options) {
    if (p.empty() || p[0] != '^' || (options & (PCRE2_MULTILINE | PCRE2_EXTENDED))) return {};
    int depth = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        char c = p[i];
        if (c == '\\') {
            if (i + 1 < p.size() && p[i + 1] == 'Q') return {};
            i += (i + 1 < p.size() && p[i + 1] == 'c') ? 2 : 1;  // \cX: X is any byte
        } else if (c == '#') {
            return {};
        } else if (c == '(') {
            // Callout strings and verb names may hold any byte.
            if (i + 1 < p.size() && (p[i + 1] == '*' || (p[i + 1] == '?' && i + 2 < p.size() && p[i + 2] == 'C')))
                return {};
            ++depth;
        } else if (c == ')') {
            if (--depth < 0) return {};
        } else if (c == '|') {
            if (depth == 0) return {};
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < p.size() && p[j] == '^') ++j;
            if (j < p.size() && p[j] == ']') ++j;
            for (;; ++j) {
                if (j >= p.size()) return {};
                if (p[j] == '\\') {
                    if (j + 1 < p.size() && p[j + 1] == 'Q') return {};
                    j += (j + 1 < p.size() && p[j + 1] == 'c') ? 2 : 1;
                    continue;
                }
                if (p[j] == '[') return {};
                if (p[j] == ']') break;
            }
            i = j;
        }
    }
    auto literal = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@' || c == '_' ||
               c == '-';
    };
    size_t e = 1;
    while (e < p.size() && literal(p[e])) ++e;
    if (e < p.size() && (p[e] == '?' || p[e] == '*' || p[e] == '+' || p[e] == '{')) --e;
    std::string prefix = p.substr(1, e > 1 ? e - 1 : 0);
    if (options & PCRE2_CASELESS)
        for (char& c : prefix) c = lower(c);
    return prefix;
}

class PcrePattern final : public CompiledPattern {
public:
    PcrePattern(CodeHandle code, MatchDataHandle data, size_t captures, std::string prefix, bool caseless)
        : code_(std::move(code)),
          data_(std::move(data)),
          captures_(captures),
          prefix_(std::move(prefix)),
          caseless_(caseless) {}

    size_t capture_count() const override { return captures_; }

    Outcome match(std::string_view key, std::vector<std::optional<std::string_view>>* groups,
                  const RuleSite& site) override {
        if (!prefix_.empty() && !starts_with_prefix(key)) return Outcome::no_match;
        int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(key.data()), key.size(), 0, 0, data_.get(),
                             nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) return Outcome::no_match;
        return finish(rc, key, groups, site);
    }

private:
    bool starts_with_prefix(std::string_view key) const {
        if (key.size() < prefix_.size()) return false;
        if (!caseless_) return key.compare(0, prefix_.size(), prefix_) == 0;
        for (size_t i = 0; i < prefix_.size(); ++i)
            if (lower(key[i]) != prefix_[i]) return false;
        return true;
    }

    // A match or an error: the rarer, longer path.
    [[gnu::noinline]] Outcome finish(int rc, std::string_view key, std::vector<std::optional<std::string_view>>* groups,
                                     const RuleSite& site) {
        if (rc < 0) {
            site.warn(pcre_error_text(rc));
            return Outcome::error;
        }
        if (groups) {
            groups->assign(captures_, std::nullopt);
            PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data_.get());
            uint32_t pairs = pcre2_get_ovector_count(data_.get());
            for (size_t n = 1; n <= captures_ && n < pairs; ++n) {
                if (n >= static_cast<size_t>(rc) || ov[2 * n] == PCRE2_UNSET) continue;
                (*groups)[n - 1] = key.substr(ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
            }
        }
        return Outcome::match;
    }

    CodeHandle code_;
    MatchDataHandle data_;
    size_t captures_;
    std::string prefix_;  // literal_prefix() of the pattern
    bool caseless_;
};

class PcreEngine final : public PatternEngine {
public:
    std::string_view kind() const override { return "pcre"; }
    std::string_view missing_delimiter_action() const override { return "ignoring this rule"; }
    bool backslash_at_end_closes() const override { return false; }
    std::string_view zero_index_words() const override { return "out of range"; }
    bool second_pattern() const override { return false; }

    std::optional<uint32_t> parse_flags(std::string_view letters, const RuleSite& site) const override {
        uint32_t options = PCRE2_CASELESS | PCRE2_DOTALL;
        for (char c : letters) {
            switch (c) {
            case 'i': options ^= PCRE2_CASELESS; break;
            case 'm': options ^= PCRE2_MULTILINE; break;
            case 's': options ^= PCRE2_DOTALL; break;
            case 'x': options ^= PCRE2_EXTENDED; break;
            case 'A': options ^= PCRE2_ANCHORED; break;
            case 'E': options ^= PCRE2_DOLLAR_ENDONLY; break;
            case 'U': options ^= PCRE2_UNGREEDY; break;
            case 'X':
                site.warn(fmt::format("ignoring obsolete regexp option \"{}\"", c));
                break;
            default:
                site.warn(fmt::format("unknown regexp option \"{}\": skipping this rule", std::string(1, c)));
                return std::nullopt;
            }
        }
        return options;
    }

    std::unique_ptr<CompiledPattern> compile(const std::string& pattern, uint32_t options, bool,
                                             const RuleSite& site) const override {
        int error = 0;
        PCRE2_SIZE offset = 0;
        CodeHandle code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(), options,
                                      &error, &offset, nullptr));
        if (!code) {
            site.warn(fmt::format("error in regex at offset {}: {}", offset, pcre_error_text(error)));
            return nullptr;
        }
        uint32_t captures = 0;
        if (pcre2_pattern_info(code.get(), PCRE2_INFO_CAPTURECOUNT, &captures) != 0) {
            site.warn("pcre2_pattern_info failed");
            return nullptr;
        }
        MatchDataHandle data(pcre2_match_data_create_from_pattern(code.get(), nullptr));
        if (!data) return nullptr;
        return std::make_unique<PcrePattern>(std::move(code), std::move(data), captures,
                                             literal_prefix(pattern, options), (options & PCRE2_CASELESS) != 0);
    }
};

}  // namespace

std::unique_ptr<PatternEngine> make_pcre_engine() { return std::make_unique<PcreEngine>(); }

void register_pcre_type() {
    register_type("pcre", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        return open_pattern_table(make_pcre_engine(), name, open_flags, flags);
    });
}

}  // namespace pf::dict
