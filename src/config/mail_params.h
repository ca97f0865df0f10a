// The checks every mail program of the reference makes on main.cf when it
// starts (its mail_params_init): typed parameters must parse and lie in
// their ranges, mail_owner / setgid_group / default_privs must name
// existing, unprivileged and distinct accounts, myhostname and mydomain must
// be valid host names, inet_protocols / mynetworks_style / syslog_facility
// must be known words, the VERP delimiters must be acceptable. A failed
// check is fatal, in the reference's words ("bad string length 0 < 1:
// myhostname = ", "file /etc/postfix/main.cf: parameter mail_owner: unknown
// user name value: x", ...). postconf does not make these checks; postmap,
// postalias, postqueue, sendmail and the daemons do.
//
// Trust: main.cf is admin-written; the account names are looked up in the
// system's user and group databases.
#pragma once

#include "config/config.h"

#include <optional>
#include <string>
#include <string_view>

namespace pf::config {

void check_mail_params(const Config& config);

// The reference's host-name syntax check; warns "valid_hostname: <reason>:
// <name>" (when warn is set) and returns false for a bad name.
bool valid_hostname(std::string_view name, bool warn);

// Parsers of typed parameter values with the reference's rules; nullopt
// when the text does not parse (range checks are the caller's).
std::optional<bool> parse_bool_value(std::string_view text);
std::optional<long long> parse_int_value(std::string_view text, long long max);
// A time with an optional unit (s, m, h, d, w; default_unit when absent),
// in seconds.
std::optional<int> parse_time_value(std::string_view text, char default_unit);

// The boolean value of parameter name; a value that does not parse is
// fatal with the reference's "bad boolean configuration: name = value".
bool get_bool_param(const Config& config, const std::string& name);

}  // namespace pf::config
