// The names the reference's bounce daemon defines when it expands a
// template: the parameters every Postfix program reads at start-up, the
// bounce daemon's own, and the read-only ones (process_id, process_name,
// service_name). Learned from the reference by expanding a template that
// names each parameter of "postconf -d"; a name outside this list is
// defined only when main.cf or -o sets it.
#pragma once

#include <span>
#include <string_view>

namespace pf::mail {

// Sorted.
std::span<const std::string_view> bounce_parameter_names();
bool bounce_knows_parameter(std::string_view name);

}  // namespace pf::mail
