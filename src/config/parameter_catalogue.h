// The built-in parameters, generated from postconf/parameters.tsv and
// postconf/per-transport.tsv: the only place a default lives.
#pragma once

#include <span>
#include <string_view>

namespace pf::config {

// Raw: a string whose $names are filled in at delivery time, not by postconf -x.
enum class ParamType { Bool, Int, Long, Str, Raw, Host, Time };

struct ParamInfo {
    std::string_view name;
    ParamType type;
    std::string_view default_value;  // as `postconf -d` prints it; empty for Host
    char unit;                       // default time unit for Time, else ' '
};

struct TransportParamInfo {
    std::string_view suffix;  // "<service>_<suffix>"
    std::string_view agents;  // comma-separated daemon commands that get it
    ParamType type;
    std::string_view default_value;
    char unit;
};

// Sorted by name.
std::span<const ParamInfo> builtin_parameters();
const ParamInfo* find_builtin(std::string_view name);
std::span<const TransportParamInfo> transport_parameters();

}  // namespace pf::config
