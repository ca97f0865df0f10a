// The parameter store; see config.h.
#include "config/config.h"

#include "config/host_defaults.h"
#include "util/msg.h"
#include "util/strings.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace pf::config {

std::string resolve_config_directory(const char* from_command_line) {
    if (from_command_line && *from_command_line) return from_command_line;
    if (const char* env = std::getenv("MAIL_CONFIG"); env && *env) return env;
    return std::string(kDefaultConfigDirectory);
}

Config::Config(std::string config_directory) : config_directory_(std::move(config_directory)) {}

void Config::load_main_cf(bool explicit_directory) {
    std::vector<Assignment> seed;
    if (explicit_directory) seed.push_back(Assignment{"config_directory", config_directory_, 0});
    main_cf_ = MainCf::load(main_cf_path(), seed);
    // Ours beyond the reference: main.cf.d/*.cf, read in name order after main.cf.
    std::string dir = config_directory_ + "/main.cf.d";
    if (DIR* d = ::opendir(dir.c_str())) {
        std::vector<std::string> names;
        while (dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n.size() > 3 && n.ends_with(".cf") && n.front() != '.') names.push_back(n);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& n : names) {
            MainCf part = MainCf::load(dir + "/" + n);
            for (const auto& a : part.entries()) main_cf_.set(a.name, a.value);
        }
    }
}

void Config::set_override(std::string_view name, std::string value) {
    overrides_[std::string(name)] = std::move(value);
}

void Config::register_services(const std::vector<std::pair<std::string, std::string>>& services) {
    for (const auto& [service, command] : services) {
        for (const auto& tp : transport_parameters()) {
            bool applies = false;
            for (auto agent : util::split_tokens(tp.agents, ","))
                if (agent == command) applies = true;
            if (!applies) continue;
            std::string name = service + "_" + std::string(tp.suffix);
            if (find_builtin(name) || service_params_.count(name)) continue;
            service_params_[name] = std::string(tp.default_value);
            service_param_types_[name] = tp.type;
        }
    }
}

std::string Config::host_default(std::string_view name) const {
    if (name == "myhostname") {
        std::string domain;
        if (main_cf_.find("mydomain") || overrides_.count("mydomain")) domain = get("mydomain");
        return default_myhostname(domain);
    }
    if (name == "mydomain") return default_mydomain(get("myhostname"));
    if (name == "mynetworks") return default_mynetworks(get("mynetworks_style"), get("inet_protocols"));
    if (name == "process_id") return std::to_string(::getpid());
    if (name == "process_name") return process_name();
    return {};
}

std::optional<std::string> Config::default_value(std::string_view name) const {
    if (const ParamInfo* p = find_builtin(name)) {
        if (p->type == ParamType::Host) return host_default(name);
        return std::string(p->default_value());
    }
    if (auto it = service_params_.find(name); it != service_params_.end()) return it->second;
    return std::nullopt;
}

bool Config::is_builtin_or_service(std::string_view name) const {
    return find_builtin(name) || service_params_.count(name);
}

ParamType Config::type_of(std::string_view name) const {
    if (const ParamInfo* p = find_builtin(name)) return p->type;
    if (auto it = service_param_types_.find(name); it != service_param_types_.end()) return it->second;
    return ParamType::Str;
}

std::optional<std::string> Config::raw_value(std::string_view name) const {
    if (auto it = overrides_.find(name); it != overrides_.end()) return it->second;
    if (const std::string* v = main_cf_.find(name)) return *v;
    return default_value(name);
}

ExpandResult Config::expand_text(std::string_view text, const std::function<void(std::string_view)>& on_undefined) const {
    ExpandHooks hooks;
    hooks.lookup = [this](std::string_view n) { return raw_value(n); };
    hooks.on_undefined = on_undefined;
    return expand(text, hooks);
}

std::string Config::get(std::string_view name) const {
    auto raw = raw_value(name);
    if (!raw) return {};
    auto r = expand_text(*raw);
    if (r.status != ExpandStatus::ok) util::msg_fatal("macro processing error");
    return r.text;
}

}  // namespace pf::config
