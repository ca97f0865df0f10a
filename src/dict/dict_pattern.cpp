// Rule files and lookups shared by pcre: and regexp: tables; see
// dict_pattern.h for the syntax and the trust boundary.
#include "dict/dict_pattern.h"

#include "dict/table_source.h"
#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/core.h>

namespace pf::dict {

void RuleSite::warn(std::string_view text) const { util::msg_warn("{} map {}, line {}: {}", kind, path, lineno, text); }

namespace {

// The reference's ISALNUM: ASCII letters and digits.
bool ascii_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string_view c_string(std::string_view s) { return s.substr(0, s.find('\0')); }

struct Rule {
    enum class Op { match, if_, endif };
    Op op = Op::match;
    int lineno = 0;
    bool negate = false;
    std::unique_ptr<CompiledPattern> pattern;
    bool second_negate = false;  // regexp's "!/pattern2/"
    std::unique_ptr<CompiledPattern> second;
    PatternReplacement result;
    size_t endif_index = 0;  // if_: index of the matching endif, or the rule count
    bool want_groups = false;  // match: the result uses $n
    RuleSite site{};           // for the engine's run-time warnings
};

struct ParsedPattern {
    bool negate = false;
    std::string text;
    uint32_t options = 0;
    std::string_view rest;  // after the flags
};

class PatternDict final : public Dict {
public:
    PatternDict(std::unique_ptr<PatternEngine> engine, std::string_view name, int open_flags, Flags flags)
        : Dict(std::string(engine->kind()), std::string(name), open_flags, flags | kPattern),
          engine_(std::move(engine)) {}

    void load(std::string_view content);
    LookupResult lookup(std::string_view key) override;

private:
    RuleSite site(int lineno) const { return RuleSite{engine_->kind(), name(), lineno}; }
    std::optional<ParsedPattern> parse_pattern(std::string_view p, const RuleSite& where) const;
    void parse_match(std::string_view p, int lineno);
    void parse_if(std::string_view p, int lineno);
    void parse_endif(std::string_view p, int lineno);

    std::unique_ptr<PatternEngine> engine_;
    std::vector<Rule> rules_;
    std::vector<size_t> open_ifs_;  // while loading
    std::vector<std::optional<std::string_view>> groups_;
};

std::optional<ParsedPattern> PatternDict::parse_pattern(std::string_view p, const RuleSite& where) const {
    ParsedPattern out;
    while (!p.empty() && p.front() == '!') {
        out.negate = !out.negate;
        p = util::trim_left(p.substr(1));
    }
    if (p.empty()) {
        where.warn("no regexp: skipping this rule");
        return std::nullopt;
    }
    const char delim = p.front();
    size_t i = 1;
    bool closed = false;
    while (i < p.size()) {
        if (p[i] == '\\') {
            if (i + 1 < p.size()) {
                i += 2;
                continue;
            }
            closed = engine_->backslash_at_end_closes();
            break;
        }
        if (p[i] == delim) {
            closed = true;
            break;
        }
        ++i;
    }
    if (!closed) {
        where.warn(fmt::format("no closing regexp delimiter \"{}\": {}", std::string(1, delim),
                               engine_->missing_delimiter_action()));
        return std::nullopt;
    }
    out.text = std::string(p.substr(1, i - 1));
    size_t f = i + 1;
    size_t e = f;
    while (e < p.size() && !util::is_space(p[e]) && !(engine_->second_pattern() && p[e] == '!')) ++e;
    auto options = engine_->parse_flags(p.substr(f, e - f), where);
    if (!options) return std::nullopt;
    out.options = *options;
    out.rest = p.substr(e);
    return out;
}

void PatternDict::parse_match(std::string_view p, int lineno) {
    RuleSite where = site(lineno);
    auto pat = parse_pattern(p, where);
    if (!pat) return;
    std::optional<ParsedPattern> second;
    if (engine_->second_pattern() && !pat->rest.empty() && pat->rest.front() == '!') {
        second = parse_pattern(pat->rest, where);
        if (!second) return;
        pat->rest = second->rest;
    }
    std::string_view text = util::trim_left(pat->rest);
    if (text.empty()) where.warn("no replacement text: using empty string");
    Rule rule;
    rule.op = Rule::Op::match;
    rule.lineno = lineno;
    rule.negate = pat->negate;
    if (flags() & kSrcRhsIsFile) {
        std::string error;
        auto b64 = files_to_base64(text, error);
        if (!b64) {
            where.warn(error + ": skipping this rule");
            return;
        }
        rule.result = PatternReplacement::literal(std::move(*b64));
    } else {
        auto parsed = PatternReplacement::parse(text, engine_->zero_index_words(),
                                                [&](const std::string& w) { where.warn(w); });
        if (!parsed) {
            where.warn("bad replacement syntax: skipping this rule");
            return;
        }
        if (parsed->max_group() > 0 && (flags() & kNoRegSub)) {
            where.warn("regular expression substitution is not allowed: skipping this rule");
            return;
        }
        if (parsed->max_group() > 0 && rule.negate) {
            where.warn("$number found in negative match replacement text: skipping this rule");
            return;
        }
        rule.result = std::move(*parsed);
    }
    rule.pattern = engine_->compile(pat->text, pat->options, rule.result.max_group() > 0, where);
    if (!rule.pattern) return;
    if (rule.result.max_group() > rule.pattern->capture_count()) {
        where.warn(fmt::format("out of range replacement index \"{}\": skipping this rule",
                               static_cast<int>(rule.result.max_group())));
        return;
    }
    if (second) {
        rule.second_negate = second->negate;
        rule.second = engine_->compile(second->text, second->options, false, where);
        if (!rule.second) return;
    }
    rule.want_groups = rule.result.max_group() > 0;
    rule.site = where;
    rules_.push_back(std::move(rule));
}

void PatternDict::parse_if(std::string_view p, int lineno) {
    RuleSite where = site(lineno);
    p = util::trim_left(p.substr(2));
    if (p.empty()) {
        where.warn("no regexp: skipping this rule");
        return;
    }
    auto pat = parse_pattern(p, where);
    if (!pat) return;
    std::string_view extra = util::trim_left(pat->rest);
    if (!extra.empty()) {
        where.warn(fmt::format("ignoring extra text after IF statement: \"{}\"", extra));
        where.warn("do not prepend whitespace to statements between IF and ENDIF");
    }
    Rule rule;
    rule.op = Rule::Op::if_;
    rule.lineno = lineno;
    rule.negate = pat->negate;
    rule.pattern = engine_->compile(pat->text, pat->options, false, where);
    if (!rule.pattern) return;
    rule.site = where;
    open_ifs_.push_back(rules_.size());
    rules_.push_back(std::move(rule));
}

void PatternDict::parse_endif(std::string_view p, int lineno) {
    RuleSite where = site(lineno);
    if (open_ifs_.empty()) {
        where.warn("ignoring ENDIF without matching IF");
        return;
    }
    if (!util::trim_left(p.substr(5)).empty()) where.warn("ignoring extra text after ENDIF");
    rules_[open_ifs_.back()].endif_index = rules_.size();
    open_ifs_.pop_back();
    Rule rule;
    rule.op = Rule::Op::endif;
    rule.lineno = lineno;
    rules_.push_back(std::move(rule));
}

void PatternDict::load(std::string_view content) {
    SourceLines lines{std::string(content), name()};
    while (auto line = lines.next()) {
        std::string_view p = util::trim_right(c_string(line->text));
        if (p.empty()) continue;  // only after a NUL byte
        if (ascii_alnum(p.front())) {
            auto keyword = [&](std::string_view word) {
                return p.size() >= word.size() && util::iequals(p.substr(0, word.size()), word) &&
                       (p.size() == word.size() || !ascii_alnum(p[word.size()]));
            };
            if (keyword("if")) parse_if(p, line->lineno);
            else if (keyword("endif")) parse_endif(p, line->lineno);
            else site(line->lineno).warn("ignoring unrecognized request");
        } else {
            parse_match(p, line->lineno);
        }
    }
    while (!open_ifs_.empty()) {
        Rule& r = rules_[open_ifs_.back()];
        r.endif_index = rules_.size();
        site(r.lineno).warn("IF has no matching ENDIF");
        open_ifs_.pop_back();
    }
}

LookupResult PatternDict::lookup(std::string_view raw_key) {
    // Only kFoldMulti folds a pattern table's key (kFoldFixed is for
    // indexed tables): results with $n keep the key's case otherwise.
    std::string_view k = c_string(raw_key);
    if (util::msg_verbose) util::msg_info("dict_{}_lookup: {}: {}", engine_->kind(), name(), k);
    std::string key = (flags() & kFoldMulti) ? fold_key(k) : std::string(k);
    Rule* const rules = rules_.data();
    const size_t count = rules_.size();
    for (size_t i = 0; i < count; ++i) {
        Rule& r = rules[i];
        if (r.op == Rule::Op::endif) continue;
        auto outcome = r.pattern->match(key, r.want_groups ? &groups_ : nullptr, r.site);
        if (r.op == Rule::Op::if_) {
            if (outcome == CompiledPattern::Outcome::error ||
                (outcome == CompiledPattern::Outcome::match) == r.negate)
                i = r.endif_index;
            continue;
        }
        if (outcome == CompiledPattern::Outcome::error) continue;
        if ((outcome == CompiledPattern::Outcome::match) == r.negate) continue;
        if (r.second) {
            auto second = r.second->match(key, nullptr, r.site);
            if (second == CompiledPattern::Outcome::error) continue;
            if ((second == CompiledPattern::Outcome::match) == r.second_negate) continue;
        }
        if (!r.want_groups) return LookupResult::found(r.result.expand([](size_t) { return std::string_view{}; }));
        return LookupResult::found(r.result.expand([this](size_t n) {
            if (n == 0 || n > groups_.size() || !groups_[n - 1]) return std::string_view{};
            return *groups_[n - 1];
        }));
    }
    return LookupResult::not_found();
}

}  // namespace

DictPtr pattern_table_from_text(std::unique_ptr<PatternEngine> engine, std::string_view name,
                                std::string_view content, Flags flags) {
    auto dict = std::make_unique<PatternDict>(std::move(engine), name, O_RDONLY, flags);
    dict->load(content);
    return dict;
}

OpenResult open_pattern_table(std::unique_ptr<PatternEngine> engine, std::string_view name, int open_flags,
                              Flags flags) {
    if ((open_flags & O_ACCMODE) != O_RDONLY)
        return std::unexpected(Error{Error::Kind::config, fmt::format("{}:{} map requires O_RDONLY access mode",
                                                                      engine->kind(), name)});
    std::string content;
    const char* step = "open";
    if (!name.empty() && name.front() == '{') {
        // An inline table, "regexp:{ {rule}, {rule} }": each element is
        // one rule line, numbered from 1 in diagnostics.
        auto inline_error = [&](const std::string& text) {
            return std::unexpected(Error{Error::Kind::config, fmt::format("{} map: {}", engine->kind(), text)});
        };
        util::BracedText outer = util::strip_braces(name);
        if (!outer.error.empty()) return inline_error(outer.error);
        std::string_view cursor = outer.inner;
        while (auto element = util::next_braced_token(cursor, util::kListSeparators)) {
            if (element->front() != '{')
                return inline_error(fmt::format("no '{{' at start of text in \"{}\"", *element));
            util::BracedText rule = util::strip_braces(*element);
            if (!rule.error.empty()) return inline_error(rule.error);
            content += util::trim(rule.inner);
            content += '\n';
        }
    } else if (!util::read_file(std::string(name), content, &step)) {
        // The reference reads a file it cannot read (a directory) as empty.
        if (std::strcmp(step, "open") == 0)
            return std::unexpected(
                Error{Error::Kind::config, fmt::format("open {}: {}", name, std::strerror(errno))});
        content.clear();
    }
    auto dict = std::make_unique<PatternDict>(std::move(engine), name, open_flags, flags);
    dict->load(content);
    return dict;
}

}  // namespace pf::dict
