// Defaults that depend on the host: myhostname, mydomain, mynetworks,
// process_id, process_name. Computed the way the reference computes them, from
// the system's host name and interface addresses.
#pragma once

#include <string>
#include <string_view>

namespace pf::config {

// Host name from the system; a name without a dot gets "." and mydomain
// (main.cf's setting, or "localdomain").
std::string default_myhostname(std::string_view mydomain_setting);
// The part of myhostname after its first dot, or "localdomain".
std::string default_mydomain(std::string_view myhostname);
// The local networks per mynetworks_style ("host", "subnet" or "class") and
// inet_protocols ("all", "ipv4", "ipv6", or a list of those).
std::string default_mynetworks(std::string_view style, std::string_view inet_protocols);

void set_process_name(std::string_view argv0);
const std::string& process_name();

}  // namespace pf::config
