// The approved proxy: tables of proxymap(8); see proxymap_acl.h.
#include "proxymap_acl.h"

#include "util/brace_tokens.h"
#include "util/msg.h"

#include <optional>

namespace pf::proxymap {
namespace {

constexpr std::string_view kSeparators = ", \t\r\n";
constexpr std::string_view kProxyPrefix = "proxy:";

// The text after "unionmap:" or "pipemap:", when the element is one.
std::optional<std::string_view> nested_list(std::string_view element) {
    for (std::string_view prefix : {std::string_view("unionmap:"), std::string_view("pipemap:")})
        if (element.starts_with(prefix)) return element.substr(prefix.size());
    return std::nullopt;
}

}  // namespace

std::string_view strip_proxy_prefixes(std::string_view name) {
    while (name.starts_with(kProxyPrefix)) name.remove_prefix(kProxyPrefix.size());
    return name;
}

ApprovedTables ApprovedTables::from_list(std::string_view list, std::string_view param_name) {
    ApprovedTables approved;
    approved.add_from(list, param_name);
    return approved;
}

void ApprovedTables::add_from(std::string_view list, std::string_view param_name) {
    std::string_view cursor = list;
    while (auto token = util::next_braced_token(cursor, kSeparators)) {
        std::string_view element = *token;
        // "{ type:name attr=value ... }": the first word inside is the table.
        if (element.starts_with('{')) {
            util::BracedText inner = util::strip_braces(element);
            if (!inner.error.empty()) {
                util::msg_warn("bad {} parameter value: {}", param_name, inner.error);
                continue;
            }
            std::string_view inner_cursor = inner.inner;
            auto first = util::next_braced_token(inner_cursor, kSeparators);
            if (!first) continue;
            element = *first;
        }
        if (auto nested = nested_list(element)) {
            if (!nested->starts_with('{')) continue;
            util::BracedText inner = util::strip_braces(*nested);
            if (!inner.error.empty()) {
                util::msg_warn("bad {} parameter value: {}", param_name, inner.error);
                continue;
            }
            add_from(inner.inner, param_name);
            continue;
        }
        if (!element.starts_with(kProxyPrefix)) continue;
        std::string_view name = strip_proxy_prefixes(element);
        if (name.find(':') == std::string_view::npos) continue;
        if (names_.emplace(name).second && util::msg_verbose)
            util::msg_info("allowlisting {} from {}", name, param_name);
    }
}

}  // namespace pf::proxymap
