// The tables a proxymap(8) process may open on behalf of its clients, as the
// reference decides it: the proxymap service serves only the "proxy:" tables
// named in proxy_read_maps, the proxywrite service only those named in
// proxy_write_maps. A list element counts when it reads "proxy:type:name"
// (any number of leading "proxy:" are one), also inside "{ ... }" and inside
// the "unionmap:{...}" / "pipemap:{...}" of a list; the approved name is
// what follows the proxy: prefixes. Every other element ($names already
// expanded, bare domains, restrictions) is ignored. A brace group that is
// not closed, or has text after its '}', draws the reference's warning
// "bad <parameter> parameter value: <why>" and is skipped.
//
// Trust: the list comes from main.cf (the admin); any text is handled.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace pf::proxymap {

// What follows the leading "proxy:" prefixes of a table name.
std::string_view strip_proxy_prefixes(std::string_view name);

class ApprovedTables {
public:
    // list: the expanded value of param_name (proxy_read_maps or
    // proxy_write_maps), which also names the parameter in warnings.
    static ApprovedTables from_list(std::string_view list, std::string_view param_name);

    bool allows(std::string_view type_name) const { return names_.contains(std::string(type_name)); }
    const std::set<std::string>& names() const { return names_; }

private:
    void add_from(std::string_view list, std::string_view param_name);
    std::set<std::string> names_;
};

}  // namespace pf::proxymap
