// inline:{name=value, {name = value with spaces}, ...} — a table written in
// its own name (dict_inline in the reference). Elements split on white space
// and commas; a "{...}" element may hold spaces and commas. Each element is
// "name = value": the name ends at '=' or white space, blanks around '=' and
// at the end of the value go, the value is the rest (it may hold '='); an
// empty name or value is allowed; the last of duplicate names wins. Keys
// fold as the flags say. Read-only. With -F (kSrcRhsIsFile) values name
// files, stored as base64 of their contents. Errors, fatal to postmap, read
// '<reason>: "inline:<name>"; need "inline:{name=value...}"' ("filename"
// with -F), with reasons "bad syntax", "empty table", "missing '=' after
// attribute name", the brace errors, "open x: <reason>"; with UTF-8 checks
// on, a name that is not valid UTF-8 is 'bad UTF-8 syntax'.
//
// Trust: the name comes from main.cf or the command line.
#include "dict/dict_braced.h"
#include "dict/dict_memory.h"
#include "dict/dict_registry.h"
#include "dict/table_source.h"
#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <fcntl.h>
#include <fmt/core.h>


namespace pf::dict {
namespace {

bool space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view trim_spaces(std::string_view s) {
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

// The reference's "name = value" split; error text or empty.
std::string split_element(std::string_view text, std::string& name, std::string& value) {
    size_t i = 0;
    while (i < text.size() && space(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != '=' && !space(text[i])) ++i;
    name = std::string(text.substr(start, i - start));
    while (i < text.size() && space(text[i])) ++i;
    if (i >= text.size() || text[i] != '=') return "missing '=' after attribute name";
    ++i;
    value = std::string(trim_spaces(text.substr(i)));
    return {};
}

class InlineDict final : public MemoryDict {
public:
    InlineDict(std::string_view name, int open_flags, Flags flags)
        : MemoryDict("inline", std::string(name), open_flags, flags) {}

    // The error text, or empty.
    std::string load() {
        if ((flags() & kUtf8Active) && !util::valid_utf8(name())) return "bad UTF-8 syntax";
        auto body = braced_body(name());
        if (!body) return "bad syntax";
        auto elements = braced_elements(*body);
        if (elements.empty()) return "empty table";
        for (std::string_view element : elements) {
            std::string_view text = element;
            std::string inner;
            if (!element.empty() && element.front() == '{') {
                util::BracedText t = util::strip_braces(element);
                if (!t.error.empty()) return t.error;
                inner = std::string(trim_spaces(t.inner));
                text = inner;
            }
            std::string key, value;
            if (std::string err = split_element(text, key, value); !err.empty()) return err;
            if (flags() & kSrcRhsIsFile) {
                std::string err;
                auto encoded = files_to_base64(value, err);
                if (!encoded) return err;
                value = std::move(*encoded);
            }
            put(fold_key(key), std::move(value));
        }
        return {};
    }
};

}  // namespace

void register_inline_type() {
    register_type("inline", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        if ((open_flags & O_ACCMODE) != O_RDONLY)
            return std::unexpected(Error{Error::Kind::config, fmt::format("inline:{} map requires O_RDONLY access mode", name)});
        auto dict = std::make_unique<InlineDict>(name, open_flags, flags | kFixed);
        if (std::string err = dict->load(); !err.empty())
            return std::unexpected(Error{Error::Kind::config,
                                         fmt::format("{}: \"inline:{}\"; need \"inline:{{name={}...}}\"", err, name,
                                                     (flags & kSrcRhsIsFile) && err != "bad syntax" ? "filename" : "value")});
        // The reference keeps the entries in an internal: table of its own.
        if (util::msg_verbose) util::msg_info("dict_open: internal:{}", name);
        return dict;
    });
}

}  // namespace pf::dict
