// The parameter store every program reads: built-in defaults from the
// catalogue, per-service defaults derived from master.cf, host defaults,
// main.cf, and command-line overrides (-o), in rising precedence. Values are
// expanded on request; typed accessors check values as the reference does.
#pragma once

#include "config/expand.h"
#include "config/main_cf.h"
#include "config/parameter_catalogue.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pf::config {

inline constexpr std::string_view kDefaultConfigDirectory = "/etc/postfix";

// -c dir, else $MAIL_CONFIG, else the compiled-in default.
std::string resolve_config_directory(const char* from_command_line);

class Config {
public:
    explicit Config(std::string config_directory);

    const std::string& config_directory() const { return config_directory_; }
    std::string main_cf_path() const { return config_directory_ + "/main.cf"; }
    std::string master_cf_path() const { return config_directory_ + "/master.cf"; }

    // Reads main.cf (and main.cf.d/*.cf fragments, when that folder exists).
    // With explicit_directory, config_directory counts as set before main.cf
    // (as with -c or MAIL_CONFIG in the reference).
    void load_main_cf(bool explicit_directory = false);
    MainCf& main_cf() { return main_cf_; }
    const MainCf& main_cf() const { return main_cf_; }

    void set_override(std::string_view name, std::string value);
    const std::map<std::string, std::string, std::less<>>& overrides() const { return overrides_; }

    // Registers "<service>_<suffix>" parameters for master.cf services whose
    // command is a delivery agent (name, command pairs).
    void register_services(const std::vector<std::pair<std::string, std::string>>& services);
    // Per-service parameters, name to default, sorted.
    const std::map<std::string, std::string, std::less<>>& service_parameters() const { return service_params_; }

    // Built-in, per-service or host default; nullopt when the name is unknown.
    std::optional<std::string> default_value(std::string_view name) const;
    bool is_builtin_or_service(std::string_view name) const;
    ParamType type_of(std::string_view name) const;

    // The effective raw (unexpanded) value; nullopt when undefined.
    std::optional<std::string> raw_value(std::string_view name) const;

    // Expands text against this store; undefined names are reported through
    // on_undefined when given.
    ExpandResult expand_text(std::string_view text, const std::function<void(std::string_view)>& on_undefined = {}) const;
    // The expanded value of a parameter; a syntax error is fatal.
    std::string get(std::string_view name) const;

private:
    std::string host_default(std::string_view name) const;

    std::string config_directory_;
    MainCf main_cf_;
    std::map<std::string, std::string, std::less<>> overrides_;
    std::map<std::string, std::string, std::less<>> service_params_;
    std::map<std::string, ParamType, std::less<>> service_param_types_;
};

}  // namespace pf::config
