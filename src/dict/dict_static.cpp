// static:value — every lookup finds the same value (static_table in the
// reference); "static:{text with spaces}" takes the text between the braces,
// without the blanks at its ends ('bad static:name syntax: missing '}' in
// "{a b"' and "syntax error after '}' ..." otherwise). With -F
// (kSrcRhsIsFile) the value names files whose contents become the base64
// value. No walks, no changes: the Dict defaults answer with the reference's
// "operation is not supported" wording.
//
// Trust: the name comes from main.cf or the command line.
#include "dict/dict_registry.h"
#include "dict/table_source.h"
#include "util/brace_tokens.h"
#include "util/strings.h"

namespace pf::dict {
namespace {

class StaticDict final : public Dict {
public:
    StaticDict(std::string_view name, int open_flags, Flags flags, std::string value)
        : Dict("static", std::string(name), open_flags, flags | kFixed), value_(std::move(value)) {}

    LookupResult lookup(std::string_view) override { return LookupResult::found(value_); }

private:
    std::string value_;
};

}  // namespace

void register_static_type() {
    register_type("static", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        std::string value(name);
        if (!name.empty() && name.front() == '{') {
            util::BracedText t = util::strip_braces(name);
            if (!t.error.empty())
                return std::unexpected(Error{Error::Kind::config, "bad static:name syntax: " + t.error});
            value = std::string(util::trim(t.inner, " \t\r\n\v\f"));
        }
        if (flags & kSrcRhsIsFile) {
            std::string err;
            auto encoded = files_to_base64(value, err);
            if (!encoded) return std::unexpected(Error{Error::Kind::config, err});
            value = std::move(*encoded);
        }
        return std::make_unique<StaticDict>(name, open_flags, flags, std::move(value));
    });
}

}  // namespace pf::dict
