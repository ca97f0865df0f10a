// postconf(1): the database table types whose configuration postconf checks,
// and the settings each type knows. Shared by the check itself and anything
// that needs to recognise a "type:name" table's legacy main.cf parameters.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace pf::postconf {

// The settings a database client configuration file of this type may hold
// ("hosts", "query", ...); empty when type is not one of ldap, mysql, pgsql,
// sqlite, memcache (case-sensitive, as the reference).
std::span<const std::string_view> dbms_settings(std::string_view type);

// After check_database_tables: whether the master.cf service st.master[index]
// uses its own "-o name=value" setting as a legacy table parameter (for
// "type:prefix" tables named in that service's -o values). Such settings are
// not "unused" in that service.
bool is_dbms_service_parameter(std::size_t master_index, std::string_view name);

}  // namespace pf::postconf
