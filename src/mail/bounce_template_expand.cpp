// Bounce template expansion; see bounce_template_expand.h.
#include "mail/bounce_template_expand.h"

#include "config/expand.h"
#include "config/mail_params.h"
#include "config/parameter_catalogue.h"
#include "mail/bounce_parameters.h"

#include <fmt/format.h>

#include <optional>

namespace pf::mail {
namespace {

// Parameters whose value may be shown in a unit of the template's choice.
constexpr std::string_view kTimeParameters[] = {"delay_warning_time", "maximal_queue_lifetime"};

struct TimeUnit {
    std::string_view suffix;
    long long seconds;
    bool may_be_excessive;  // the reference asks for a larger unit past 999
};
constexpr TimeUnit kTimeUnits[] = {
    {"seconds", 1, true},      {"minutes", 60, true},          {"hours", 3600, true},
    {"days", 86400, false},    {"weeks", 7 * 86400, false},
};

// Thrown by the lookup for errors that end the expansion at once.
struct Abort {
    TemplateError error;
};

}  // namespace

bool TemplateExpander::is_defined(std::string_view name) const {
    return bounce_knows_parameter(name) || config_.main_cf().find(name) || config_.overrides().count(name);
}

std::expected<std::string, TemplateError> TemplateExpander::expand_line(const BounceTemplate& tmpl, std::string_view line,
                                                                        const WarningSink& warn) const {
    const std::string& origin = tmpl.origin();
    std::string_view kind = tmpl.name();
    bool undefined = false;

    config::ExpandHooks hooks;
    hooks.recurse = false;  // values come back fully expanded
    hooks.on_undefined_plain = [&](std::string_view) { undefined = true; };
    hooks.lookup = [&](std::string_view name) -> std::optional<std::string> {
        for (std::string_view param : kTimeParameters) {
            if (!(name.size() > param.size() && name.starts_with(param) && name[param.size()] == '_')) continue;
            std::string_view suffix = name.substr(param.size() + 1);
            const TimeUnit* unit = nullptr;
            for (const auto& u : kTimeUnits)
                if (u.suffix == suffix) unit = &u;
            if (!unit)
                throw Abort{TemplateError{
                    fmt::format("{}: unrecognized suffix \"{}\" in parameter \"{}\"", origin, suffix, name)}};
            const config::ParamInfo* info = config::find_builtin(param);
            std::string value = config_.get(param);
            auto seconds = config::parse_time_value(value, info ? info->unit : 's');
            if (!seconds)
                throw Abort{TemplateError{fmt::format("parameter {}: bad time value or unit: {}", param, value)}};
            long long result = *seconds / unit->seconds;
            if (unit->may_be_excessive && result > 999) {
                emit_warning(warn, fmt::format("{}: excessive result \"{}\" in {} template conversion of parameter \"{}\"",
                                               origin, result, kind, name));
                emit_warning(warn, fmt::format("please increase time unit \"{}\" of \"{}\" in {} template", unit->suffix,
                                               name, kind));
                emit_warning(warn, "for instructions see the bounce(5) manual");
            } else if (result == 0 && *seconds > 0) {
                emit_warning(warn, fmt::format("{}: zero result in {} template conversion of parameter \"{}\"", origin,
                                               kind, name));
                emit_warning(warn, fmt::format("please reduce time unit \"{}\" of \"{}\" in {} template", unit->suffix,
                                               name, kind));
                emit_warning(warn, "for instructions see the bounce(5) manual");
            }
            return std::to_string(result);
        }
        if (!is_defined(name)) return std::nullopt;
        auto raw = config_.raw_value(name);
        if (!raw) return std::string();
        // Inside values undefined names expand to nothing, without a word.
        return config_.expand_text(*raw).text;
    };

    config::ExpandResult r;
    try {
        r = config::expand(line, hooks);
    } catch (const Abort& a) {
        return std::unexpected(a.error);
    }
    if (r.status != config::ExpandStatus::ok)
        return std::unexpected(TemplateError{fmt::format("{}: bad $name syntax in {} template: {}", origin, kind, line)});
    if (undefined)
        return std::unexpected(TemplateError{fmt::format("{}: undefined $name in {} template: {}", origin, kind, line)});
    return std::move(r.text);
}

std::expected<std::vector<std::string>, TemplateError> TemplateExpander::expanded_body(const BounceTemplate& tmpl,
                                                                                      const WarningSink& warn) const {
    std::vector<std::string> out;
    for (const auto& line : tmpl.body()) {
        auto e = expand_line(tmpl, line, warn);
        if (!e) return std::unexpected(e.error());
        out.push_back(std::move(*e));
    }
    return out;
}

std::expected<std::string, TemplateError> TemplateExpander::expanded_text(const BounceTemplate& tmpl,
                                                                          const WarningSink& warn) const {
    std::string out = fmt::format("expanded_{}_text = <<EOF\n", tmpl.name());
    for (const auto& line : tmpl.body()) {
        auto e = expand_line(tmpl, line, warn);
        if (!e) return std::unexpected(e.error());
        out += *e;
        out += '\n';
    }
    out += "EOF\n";
    return out;
}

}  // namespace pf::mail
