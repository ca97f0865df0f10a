// pcre:/file — the pattern table of pcre_table(5), on the PCRE2 library.
// Rule syntax and evaluation are shared with regexp: (dict_pattern.h); this
// file adds the PCRE2 side: flags toggle the options, whose defaults are
// case-insensitive matching and '.' matching newlines (for multi-line
// headers): i caseless, m multiline, s dotall,
// x extended, A anchored, E dollar-end-only, U ungreedy, X obsolete (warned
// and ignored); patterns are bytes (no UTF mode), the C-locale tables of the
// library; match limits are the library's defaults, as the reference leaves
// them, so the same keys hit "match limit exceeded" (reported, rule skipped).
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

class PcrePattern final : public CompiledPattern {
public:
    PcrePattern(CodeHandle code, MatchDataHandle data, size_t captures)
        : code_(std::move(code)), data_(std::move(data)), captures_(captures) {}

    size_t capture_count() const override { return captures_; }

    Outcome match(std::string_view key, std::vector<std::optional<std::string_view>>* groups,
                  const RuleSite& site) override {
        int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(key.data()), key.size(), 0, 0, data_.get(),
                             nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) return Outcome::no_match;
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

private:
    CodeHandle code_;
    MatchDataHandle data_;
    size_t captures_;
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
        return std::make_unique<PcrePattern>(std::move(code), std::move(data), captures);
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
