// postconf(1) main.cf display: -d, -n, the default listing and named
// parameters, with -h, -H, -x, -f; the unused/undefined parameter warnings.
#include "postconf.h"

#include "util/msg.h"
#include "util/strings.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

namespace pf::postconf {
namespace {

constexpr size_t kFoldWidth = 80;

void load_master_services(State& st) {
    if (st.master_loaded) return;
    st.master = config::load_master_cf(st.config.master_cf_path());
    st.master_loaded = true;
    std::vector<std::pair<std::string, std::string>> services;
    for (const auto& e : st.master) services.emplace_back(e.name, e.command);
    st.config.register_services(services);
}

bool explicit_config_directory(const State& st) {
    if (st.opts.have_config_dir) return true;
    const char* env = std::getenv("MAIL_CONFIG");
    return env && *env;
}

std::string expand_or_die(const State& st, std::string_view value) {
    auto r = st.config.expand_text(value);
    if (r.status != config::ExpandStatus::ok) util::msg_fatal("macro processing error");
    return r.text;
}

}  // namespace

void print_parameter(const Options& opts, std::string_view name, std::string_view value) {
    std::string out;
    if (opts.has(kNoValues)) {
        out = std::string(name);
    } else {
        std::vector<std::string_view> words;
        if (!opts.has(kNoNames)) {
            words.push_back(name);
            words.push_back("=");
        }
        // Only these separate words here; \v and \f are printed as they are.
        for (auto w : util::split_tokens(value, " \t\r\n")) words.push_back(w);
        if (!opts.has(kFold)) {
            for (size_t i = 0; i < words.size(); ++i) {
                if (i) out += ' ';
                out += words[i];
            }
            if (!opts.has(kNoNames) && words.size() == 2) out = std::string(name) + " =";
        } else {
            size_t col = 0;
            for (size_t i = 0; i < words.size(); ++i) {
                if (i == 0) {
                    out += words[i];
                    col = words[i].size();
                } else if (col + 1 + words[i].size() > kFoldWidth && col > 4) {
                    out += "\n    ";
                    out += words[i];
                    col = 4 + words[i].size();
                } else {
                    out += ' ';
                    out += words[i];
                    col += 1 + words[i].size();
                }
            }
        }
    }
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
}

void analyse_user_parameters(State& st) {
    // Names that built-in defaults refer to (legacy names such as virtual_maps)
    // count as used, and as defined.
    std::set<std::string, std::less<>> default_refs;
    config::ExpandHooks defaults_scan;
    defaults_scan.scan_only = true;
    defaults_scan.on_reference = [&](std::string_view n) {
        if (st.config.is_builtin_or_service(n)) return;
        st.user_defined.insert(std::string(n));
        default_refs.insert(std::string(n));
    };
    for (const auto& p : config::builtin_parameters())
        if (p.type != config::ParamType::Raw && p.type != config::ParamType::Host)
            config::expand(p.default_value(), defaults_scan);

    // One scan per value: references make names used; a reference to a name
    // defined nowhere is reported; syntax errors are warnings only (the fatal
    // error comes from check_database_tables' expansion of built-in values).
    auto scan_value = [&](std::string_view text, const std::string& origin,
                          const std::set<std::string, std::less<>>* local) {
        config::ExpandHooks scan;
        scan.scan_only = true;
        scan.on_reference = [&](std::string_view n) {
            if (st.config.is_builtin_or_service(n)) return;
            st.user_defined.insert(std::string(n));
            if (local && local->count(n)) return;
            if (st.config.main_cf().find(n) || default_refs.count(n)) return;
            util::msg_warn("{}: undefined parameter: {}", origin, n);
        };
        config::expand(text, scan);
    };
    // A name that some master.cf service sets with -o is defined for main.cf too.
    std::set<std::string, std::less<>> master_names;
    for (const auto& e : st.master)
        for (const auto& p : e.params) master_names.insert(p.name);
    const std::string main_origin = st.config.main_cf_path();
    for (const auto& a : st.config.main_cf().entries())
        if (st.config.type_of(a.name) != config::ParamType::Raw) scan_value(a.value, main_origin, &master_names);
    const std::string master_origin = st.config.master_cf_path();
    for (const auto& e : st.master) {
        std::set<std::string, std::less<>> names;
        for (const auto& p : e.params) names.insert(p.name);
        for (const auto& p : e.params)
            if (st.config.type_of(p.name) != config::ParamType::Raw) scan_value(p.value, master_origin, &names);
    }
    if (const std::string* classes = st.config.main_cf().find("smtpd_restriction_classes")) {
        for (auto c : util::split_tokens(*classes, util::kListSeparators)) st.user_defined.insert(std::string(c));
    }
}

namespace {
// Parameters a program sets for itself; main.cf cannot change them.
bool is_read_only(std::string_view name) {
    return name == "process_id" || name == "process_name" || name == "service_name";
}
}  // namespace

bool is_used_parameter(const State& st, std::string_view name) {
    if (is_read_only(name)) return false;
    return st.config.is_builtin_or_service(name) || st.user_defined.count(name) > 0;
}

int show_main_parameters(State& st) {
    const Options& o = st.opts;
    auto& cfg = st.config;
    if (!o.has(kDefaults)) {
        cfg.load_main_cf(explicit_config_directory(st));
        for (const auto& [k, v] : o.overrides) cfg.main_cf().set(k, v);
    }
    load_master_services(st);
    // The reference computes the local networks at start-up; with -v that
    // shows in its log.
    if (util::msg_verbose) (void)cfg.default_value("mynetworks");
    if (!o.has(kDefaults)) {
        // The reference evaluates the compatibility level up front; a
        // malformed one is fatal whatever is being shown.
        if (auto level = cfg.raw_value("compatibility_level")) {
            auto r = cfg.expand_text("${{$compatibility_level} <level {0} ? {} : {}}");
            if (r.status != config::ExpandStatus::ok) util::msg_fatal("macro processing error");
        }
        analyse_user_parameters(st);
        check_database_tables(st);
        warn_unused_master_parameters(st);
    }

    auto value_for = [&](std::string_view name) -> std::optional<std::string> {
        std::optional<std::string> v = o.has(kDefaults) ? cfg.default_value(name) : cfg.raw_value(name);
        if (!v) return v;
        if (o.has(kExpand) && cfg.type_of(name) != config::ParamType::Raw) return expand_or_die(st, *v);
        return v;
    };

    auto in_classes = [&](std::string_view name) {
        // The reference files these two built-ins under the "service" class.
        if (name == "local_destination_concurrency_limit" || name == "local_destination_recipient_limit")
            return o.class_service;
        if (config::find_builtin(name)) return o.class_builtin;
        if (cfg.service_parameters().count(name)) return o.class_service;
        return o.class_user;
    };

    if (!o.args.empty()) {
        for (const auto& name : o.args) {
            bool known = cfg.is_builtin_or_service(name) ||
                         (!o.has(kDefaults) && st.user_defined.count(name) && cfg.main_cf().find(name));
            if (!known) {
                util::msg_warn("{}: unknown parameter", name);
                continue;
            }
            if (o.has(kNonDefault) && !cfg.main_cf().find(name)) continue;
            auto v = value_for(name);
            print_parameter(o, name, v.value_or(""));
        }
    } else {
        std::map<std::string, bool> names;  // sorted
        if (o.has(kNonDefault)) {
            for (const auto& a : cfg.main_cf().entries())
                if (is_used_parameter(st, a.name)) names[a.name] = true;
        } else {
            for (const auto& p : config::builtin_parameters()) names[std::string(p.name())] = true;
            for (const auto& [n, d] : cfg.service_parameters()) names[n] = true;
            if (!o.has(kDefaults))
                for (const auto& a : cfg.main_cf().entries())
                    if (st.user_defined.count(a.name)) names[a.name] = true;
        }
        for (const auto& [name, _] : names) {
            if (!in_classes(name)) continue;
            auto v = value_for(name);
            print_parameter(o, name, v.value_or(""));
        }
    }
    if (!o.has(kDefaults)) {
        const std::string origin = cfg.main_cf_path();
        for (const auto& a : cfg.main_cf().entries()) {
            if (is_read_only(a.name))
                util::msg_warn("{}: read-only parameter assignment: {}={}", origin, a.name, a.value);
            else if (!is_used_parameter(st, a.name))
                util::msg_warn("{}: unused parameter: {}={}", origin, a.name, a.value);
        }
    }
    std::fflush(stdout);
    return 0;
}

}  // namespace pf::postconf
