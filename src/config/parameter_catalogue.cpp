// Tables generated from the parameter catalogue; see parameter_catalogue.h.
// The built-in table is computed at compile time from the lengths of the
// same generated entries that kParamText concatenates.
#include "config/parameter_catalogue.h"

#include <algorithm>
#include <array>

namespace pf::config {
namespace {

constexpr std::size_t kBuiltinCount = 0
#define PF_PARAM(name, type, def, unit) +1
#define PF_TRANSPORT_PARAM(suffix, agents, type, def, unit)
#include "config/parameter_table.inc"
    ;

// The entries with their offsets into kParamText, laid out as it is below:
// each name and each default value followed by its NUL.
constexpr std::array<ParamInfo, kBuiltinCount> kBuiltin = [] {
    std::array<ParamInfo, kBuiltinCount> out{};
    std::size_t i = 0;
    std::uint32_t at = 0;
    auto add = [&](std::size_t name_size, std::size_t default_size, ParamType type, char unit) {
        if (name_size == 0 || name_size > 0xff || default_size > 0xffff) throw "parameter name or default too long";
        out[i++] = ParamInfo{at, static_cast<std::uint32_t>(at + name_size + 1),
                             static_cast<std::uint16_t>(default_size), static_cast<std::uint8_t>(name_size), unit,
                             type};
        at += static_cast<std::uint32_t>(name_size + 1 + default_size + 1);
    };
#define PF_PARAM(name, type, def, unit) add(sizeof(name) - 1, sizeof(def) - 1, ParamType::type, unit);
#define PF_TRANSPORT_PARAM(suffix, agents, type, def, unit)
#include "config/parameter_table.inc"
    return out;
}();

constexpr TransportParamInfo kTransport[] = {
#define PF_PARAM(name, type, def, unit)
#define PF_TRANSPORT_PARAM(suffix, agents, type, def, unit) TransportParamInfo{suffix, agents, ParamType::type, def, unit},
#include "config/parameter_table.inc"
};

}  // namespace

namespace detail {
extern const char kParamText[] =
#define PF_PARAM(name, type, def, unit) name "\0" def "\0"
#define PF_TRANSPORT_PARAM(suffix, agents, type, def, unit)
#include "config/parameter_table.inc"
    ;
}  // namespace detail

std::span<const ParamInfo> builtin_parameters() { return kBuiltin; }

const ParamInfo* find_builtin(std::string_view name) {
    auto it = std::lower_bound(kBuiltin.begin(), kBuiltin.end(), name,
                               [](const ParamInfo& p, std::string_view n) { return p.name() < n; });
    if (it == kBuiltin.end() || it->name() != name) return nullptr;
    return &*it;
}

std::span<const TransportParamInfo> transport_parameters() { return kTransport; }

}  // namespace pf::config
