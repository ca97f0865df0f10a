// The built-in parameters, generated from postconf/parameters.tsv and
// postconf/per-transport.tsv: the only place a default lives.
//
// The table of the ~830 built-in parameters holds offsets into one block
// of text instead of pointers: a table of pointers in a position-
// independent program is relocated at every start, which makes its ~40 KB
// private to each process (every daemon and command); offsets stay in
// read-only pages shared by all of them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace pf::config {

// Raw: a string whose $names are filled in at delivery time, not by postconf -x.
enum class ParamType { Bool, Int, Long, Str, Raw, Host, Time };

namespace detail {
// Every built-in name and default value, each followed by a NUL.
extern const char kParamText[];
}  // namespace detail

struct ParamInfo {
    std::uint32_t name_at;           // offsets into kParamText
    std::uint32_t default_at;
    std::uint16_t default_size;
    std::uint8_t name_size;
    char unit;                       // default time unit for Time, else ' '
    ParamType type;

    std::string_view name() const { return {detail::kParamText + name_at, name_size}; }
    // As `postconf -d` prints it; empty for Host.
    std::string_view default_value() const { return {detail::kParamText + default_at, default_size}; }
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
