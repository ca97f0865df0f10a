// cidr:/file — the network table of cidr_table(5). One rule per logical
// line (the logical lines of table_source.h), first match wins:
//   [!]pattern result     pattern as in cidr_match.h; '!' (repeatable,
//                         white space allowed after it) negates the match
//   if [!]pattern         the rules up to the matching "endif" apply only
//   endif                 when the address is in pattern (nestable)
// A negated pattern still only matches addresses of its own family. "if"
// takes all the rest of its line as the pattern. Bad lines are reported as
// "cidr map <file>, line <n>: <why>: skipping this rule" and skipped; an
// "if" without "endif" is reported at the end and covers the rest of the
// file. Keys that inet_pton() does not take are simply not found. With -v
// each rule is logged as it is added ("dict_cidr_open: add net/len value"),
// but an endif is not: the reference dies there ("fatal: inet_ntop: Address
// family not supported by protocol"), a bug we do not copy.
//
// Trust: the table file is the administrator's, but any byte sequence is
// handled; keys are arbitrary bytes (cut at the first NUL).
#include "dict/dict_cidr.h"

#include "dict/cidr_match.h"
#include "dict/dict_registry.h"
#include "dict/table_source.h"
#include "util/msg.h"
#include "util/strings.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/core.h>

namespace pf::dict {
namespace {

struct CidrRule {
    enum class Op { match, if_, endif };
    Op op = Op::match;
    int lineno = 0;
    bool negate = false;
    CidrPattern pattern;
    std::string value;
    size_t endif_index = 0;
};

class CidrDict final : public Dict {
public:
    CidrDict(std::string_view name, int open_flags, Flags flags)
        : Dict("cidr", std::string(name), open_flags, flags | kPattern) {}

    void load(std::string_view content);
    LookupResult lookup(std::string_view key) override;

private:
    void skip(int lineno, std::string_view why) const {
        util::msg_warn("cidr map {}, line {}: {}: skipping this rule", name(), lineno, why);
    }
    void parse_line(std::string_view p, int lineno);

    std::vector<CidrRule> rules_;
    std::vector<size_t> open_ifs_;
};

bool starts_with_word(std::string_view p, std::string_view word) {
    return p.size() >= word.size() && util::iequals(p.substr(0, word.size()), word) &&
           (p.size() == word.size() || util::is_space(p[word.size()]));
}

std::string_view strip_negation(std::string_view p, bool& negate) {
    while (!p.empty() && p.front() == '!') {
        negate = !negate;
        p = util::trim_left(p.substr(1));
    }
    return p;
}

void CidrDict::parse_line(std::string_view p, int lineno) {
    CidrRule rule;
    rule.lineno = lineno;
    if (starts_with_word(p, "endif")) {
        if (!util::trim_left(p.substr(5)).empty()) return skip(lineno, "garbage after ENDIF");
        if (open_ifs_.empty()) return skip(lineno, "ENDIF without IF");
        rules_[open_ifs_.back()].endif_index = rules_.size();
        open_ifs_.pop_back();
        rule.op = CidrRule::Op::endif;
        rules_.push_back(std::move(rule));
        return;
    }
    std::string_view pattern;
    std::string_view value;
    if (starts_with_word(p, "if")) {
        rule.op = CidrRule::Op::if_;
        pattern = strip_negation(util::trim_left(p.substr(2)), rule.negate);
    } else {
        rule.op = CidrRule::Op::match;
        std::string_view rest = strip_negation(p, rule.negate);
        size_t end = 0;
        while (end < rest.size() && !util::is_space(rest[end])) ++end;
        pattern = rest.substr(0, end);
        value = util::trim_left(rest.substr(end));
    }
    if (pattern.empty()) return skip(lineno, "no address pattern");
    auto parsed = parse_cidr_pattern(pattern);
    if (!parsed) return skip(lineno, parsed.error());
    rule.pattern = *parsed;
    if (rule.op == CidrRule::Op::match) {
        if (value.empty()) return skip(lineno, "no lookup result");
        if (flags() & kSrcRhsIsFile) {
            std::string error;
            auto b64 = files_to_base64(value, error);
            if (!b64) return skip(lineno, error);
            rule.value = std::move(*b64);
        } else {
            rule.value = std::string(value);
        }
    } else {
        open_ifs_.push_back(rules_.size());
    }
    if (util::msg_verbose) {
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(rule.pattern.family, rule.pattern.net.data(), buf, sizeof buf);
        util::msg_info("dict_cidr_open: add {}/{} {}", buf, rule.pattern.mask_len, rule.value);
    }
    rules_.push_back(std::move(rule));
}

void CidrDict::load(std::string_view content) {
    SourceLines lines{std::string(content), name()};
    while (auto line = lines.next()) {
        std::string_view text = line->text;
        parse_line(util::trim_right(text.substr(0, text.find('\0'))), line->lineno);
    }
    while (!open_ifs_.empty()) {
        CidrRule& r = rules_[open_ifs_.back()];
        r.endif_index = rules_.size();
        util::msg_warn("cidr map {}, line {}: IF has no matching ENDIF", name(), r.lineno);
        open_ifs_.pop_back();
    }
}

LookupResult CidrDict::lookup(std::string_view raw_key) {
    std::string_view key = raw_key.substr(0, raw_key.find('\0'));
    if (util::msg_verbose) util::msg_info("dict_cidr_lookup: {}: {}", name(), key);
    auto address = parse_cidr_address(key);
    if (!address) return LookupResult::not_found();
    for (size_t i = 0; i < rules_.size(); ++i) {
        const CidrRule& r = rules_[i];
        if (r.op == CidrRule::Op::endif) continue;
        bool hit = r.pattern.family == address->family && cidr_matches(r.pattern, *address) != r.negate;
        if (r.op == CidrRule::Op::if_) {
            if (!hit) i = r.endif_index;
            continue;
        }
        if (hit) return LookupResult::found(r.value);
    }
    return LookupResult::not_found();
}

}  // namespace

DictPtr cidr_table_from_text(std::string_view name, std::string_view content, Flags flags) {
    auto dict = std::make_unique<CidrDict>(name, O_RDONLY, flags);
    dict->load(content);
    return dict;
}

void register_cidr_type() {
    register_type("cidr", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        if ((open_flags & O_ACCMODE) != O_RDONLY)
            return std::unexpected(
                Error{Error::Kind::config, fmt::format("cidr:{} map requires O_RDONLY access mode", name)});
        std::string content;
        const char* step = "open";
        if (!util::read_file(std::string(name), content, &step)) {
            if (std::strcmp(step, "open") == 0)
                return std::unexpected(
                    Error{Error::Kind::config, fmt::format("open {}: {}", name, std::strerror(errno))});
            return std::unexpected(
                Error{Error::Kind::config, fmt::format("cidr map {}: read error: {}", name, std::strerror(errno))});
        }
        auto dict = std::make_unique<CidrDict>(name, open_flags, flags);
        dict->load(content);
        return DictPtr(std::move(dict));
    });
}

}  // namespace pf::dict
