// Tables generated from the parameter catalogue; see parameter_catalogue.h.
#include "config/parameter_catalogue.h"

#include <algorithm>
#include <array>

namespace pf::config {
namespace {

constexpr ParamInfo kBuiltin[] = {
#define PF_PARAM(name, type, def, unit) ParamInfo{name, ParamType::type, def, unit},
#define PF_TRANSPORT_PARAM(suffix, agents, type, def, unit)
#include "config/parameter_table.inc"
};

constexpr TransportParamInfo kTransport[] = {
#define PF_PARAM(name, type, def, unit)
#define PF_TRANSPORT_PARAM(suffix, agents, type, def, unit) TransportParamInfo{suffix, agents, ParamType::type, def, unit},
#include "config/parameter_table.inc"
};

}  // namespace

std::span<const ParamInfo> builtin_parameters() { return kBuiltin; }

const ParamInfo* find_builtin(std::string_view name) {
    auto it = std::lower_bound(std::begin(kBuiltin), std::end(kBuiltin), name,
                               [](const ParamInfo& p, std::string_view n) { return p.name < n; });
    if (it == std::end(kBuiltin) || it->name != name) return nullptr;
    return &*it;
}

std::span<const TransportParamInfo> transport_parameters() { return kTransport; }

}  // namespace pf::config
