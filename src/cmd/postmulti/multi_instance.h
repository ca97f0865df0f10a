// The instance model of postmulti(1): one record per Postfix instance of a
// multi-instance set (the primary in the default configuration directory,
// then each directory of multi_instance_directories), how a "-i", "-g" or
// "-a" selection picks instances, the checks on new instance and group
// names, the private directories a new instance gets by default, and the
// claim table that keeps two instances from sharing a name or a private
// directory. The rules and messages are those of the reference's postmulti
// 3.7.11, observed; the code is ours.
//
// Trust: names and paths come from the command line of root and from
// admin-written main.cf files; every check here treats them as text to
// validate, never to interpret.
#pragma once

#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pf::postmulti {

// A non-empty instance name must start with this.
inline constexpr std::string_view kNamePrefix = "postfix-";

struct Instance {
    std::string config_dir{};
    std::string queue_dir{};
    std::string data_dir{};
    std::optional<std::string> name{};   // unset when empty
    std::optional<std::string> group{};  // unset when empty
    bool enabled = false;
    bool primary = false;
};

enum class SelectType { none, all, name, group };

struct Selection {
    SelectType type = SelectType::none;
    std::string name{};
};

// Whether a selection picks an instance. By name: an absolute path matches
// the config directory; otherwise the instance name, or its part after
// "postfix-" when the selection lacks the prefix; "-" picks the primary;
// an unnamed instance is matched by its config directory.
bool matches(const Instance& instance, const Selection& selection);

// Only letters, digits and !@%-_=+:./ (and not empty).
bool is_safe_name(std::string_view name);

// Checks a new instance name (-I) and group (-G); "" clears and is valid.
// The error is the reference's fatal message.
std::expected<void, std::string> check_assignment(const std::optional<std::string>& name,
                                                  const std::optional<std::string>& group);

// The default private directory of a new instance: the primary's value
// with its last component replaced by the instance name
// ("/var/spool/postfix" -> "/var/spool/postfix-out").
std::expected<std::string, std::string> private_path(std::string_view param_name, std::string_view primary_value,
                                                     const std::optional<std::string>& name);

// A "name=value" argument of -e create/import, checked: the name must be
// config_directory (or queue_directory, data_directory with create), the
// value an absolute path other than "/"; trailing slashes are dropped.
struct PathSetting {
    std::string name;
    std::string value;
};
std::expected<PathSetting, std::string> parse_path_setting(std::string_view arg, bool importing,
                                                           std::string_view action);

// Whether word is one of the comma/space separated words of list.
bool word_in_list(std::string_view list, std::string_view word);

// One line of "postmulti -l": name, group, enabled (y/n), config dir.
std::string list_line(const Instance& instance);

// Claims on instance names and directories: a value may belong to one
// "<config_dir>, <parameter>" owner only.
class ClaimTable {
public:
    // Empty on success; else the reference's conflict message.
    std::expected<void, std::string> claim(const std::string& instance_path, std::string_view param,
                                           const std::string& value);
    // The owner of a value, when claimed.
    const std::string* owner(const std::string& value) const;

private:
    std::map<std::string, std::string, std::less<>> owners_;
};

}  // namespace pf::postmulti
