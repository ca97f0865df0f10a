// postmulti(1)'s instance model: selection, name checks, default private
// paths, claims (see multi_instance.h).
#include "cmd/postmulti/multi_instance.h"

#include "util/strings.h"

#include <fmt/core.h>

#include <cctype>

namespace pf::postmulti {

namespace {

bool has_prefix(std::string_view name) { return name.starts_with(kNamePrefix); }

}  // namespace

bool matches(const Instance& instance, const Selection& selection) {
    switch (selection.type) {
    case SelectType::none: return false;
    case SelectType::all: return true;
    case SelectType::group: return instance.group && *instance.group == selection.name;
    case SelectType::name: break;
    }
    const std::string& wanted = selection.name;
    std::string_view candidate;
    if (wanted.starts_with('/') || !instance.name)
        candidate = instance.config_dir;
    else if (!has_prefix(wanted) && has_prefix(*instance.name))
        candidate = std::string_view(*instance.name).substr(kNamePrefix.size());
    else
        candidate = *instance.name;
    return wanted == candidate || (instance.primary && wanted == "-");
}

bool is_safe_name(std::string_view name) {
    if (name.empty()) return false;
    static constexpr std::string_view kPunct = "!@%-_=+:./";
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && kPunct.find(c) == std::string_view::npos) return false;
    return true;
}

std::expected<void, std::string> check_assignment(const std::optional<std::string>& name,
                                                  const std::optional<std::string>& group) {
    if (name && !name->empty()) {
        if (!is_safe_name(*name)) return std::unexpected(fmt::format("Unsafe characters in new instance name: '{}'", *name));
        if (name->find('/') != std::string::npos)
            return std::unexpected(fmt::format("Illegal '/' character in new instance name: '{}'", *name));
        if (*name != "-" && !has_prefix(*name))
            return std::unexpected(fmt::format("New instance name must start with '{}'", kNamePrefix));
    }
    if (group && !group->empty() && !is_safe_name(*group))
        return std::unexpected(fmt::format("Unsafe characters in '-G {}'", *group));
    return {};
}

std::expected<std::string, std::string> private_path(std::string_view param_name, std::string_view primary_value,
                                                     const std::optional<std::string>& name) {
    if (!name || name->empty()) return std::unexpected(fmt::format("Missing {} parameter value", param_name));
    if (!primary_value.starts_with('/'))
        return std::unexpected(fmt::format("Invalid default {} parameter value: '{}': specify an absolute pathname",
                                           param_name, primary_value));
    // As the reference: with a trailing slash only the slashes go (the
    // last component stays); otherwise the last component goes, unless it
    // is the first one ("/var" stays "/var").
    std::string base(primary_value);
    std::size_t end = base.rfind('/');
    if (end == base.size() - 1 && end > 0) {
        std::size_t e = end;
        while (--e > 0 && base[e] == '/') base.resize(e);
        end = base.rfind('/');
    }
    while (end > 0 && end < base.size() && base[end] == '/') {
        base.resize(end);
        --end;
    }
    if (base.size() <= 1) base.clear();
    return fmt::format("{}/{}", base, *name);
}

std::expected<PathSetting, std::string> parse_path_setting(std::string_view arg, bool importing,
                                                           std::string_view action) {
    // name = value, with blanks around either side allowed.
    auto eq = arg.find('=');
    std::string_view name = eq == std::string_view::npos ? std::string_view{} : util::trim(arg.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : util::trim(arg.substr(eq + 1));
    if (eq == std::string_view::npos || name.empty())
        return std::unexpected(fmt::format("Malformed parameter setting '{}'", arg));
    bool known = name == "config_directory" || (!importing && (name == "queue_directory" || name == "data_directory"));
    if (!known) return std::unexpected(fmt::format("Parameter '{}' not valid with action {}", name, action));
    if (!value.starts_with('/'))
        return std::unexpected(fmt::format("Parameter setting '{}' is not an absolute path", name));
    while (value.size() > 1 && value.ends_with('/')) value.remove_suffix(1);
    if (value == "/") return std::unexpected(fmt::format("Parameter setting '{}' is the root directory", name));
    return PathSetting{std::string(name), std::string(value)};
}

bool word_in_list(std::string_view list, std::string_view word) {
    for (auto w : util::split_tokens(list, util::kListSeparators))
        if (w == word) return true;
    return false;
}

std::string list_line(const Instance& instance) {
    return fmt::format("{:<15} {:<15} {:<9} {}\n", instance.name ? *instance.name : "-",
                       instance.group ? *instance.group : "-", instance.enabled ? "y" : "n", instance.config_dir);
}

std::expected<void, std::string> ClaimTable::claim(const std::string& instance_path, std::string_view param,
                                                   const std::string& value) {
    std::string requestor = fmt::format("{}, {}", instance_path, param);
    auto it = owners_.find(value);
    if (it == owners_.end()) {
        owners_.emplace(value, std::move(requestor));
        return {};
    }
    if (it->second == requestor) return {};
    return std::unexpected(
        fmt::format("instance {}, {}={} conflicts with instance {}={}", instance_path, param, value, it->second, value));
}

const std::string* ClaimTable::owner(const std::string& value) const {
    auto it = owners_.find(value);
    return it == owners_.end() ? nullptr : &it->second;
}

}  // namespace pf::postmulti
