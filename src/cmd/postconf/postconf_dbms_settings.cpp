// postconf(1): the settings postconf accepts in ldap, mysql, pgsql, sqlite and
// memcache client configuration files (and as "name_setting" main.cf
// parameters of legacy "type:name" tables). Found by probing the reference
// postconf 3.7.11 with files of candidate names: a setting listed here draws
// no "unused parameter" warning from the reference, any other name does.
// Some settings the table drivers themselves read (mysql "charset",
// "idle_interval", "retry_interval") are not in the reference's lists, so
// they are not here either.
#include "postconf_dbms.h"

namespace pf::postconf {
namespace {

constexpr std::string_view kLdap[] = {
    "domain", "server_host", "server_port", "timeout", "search_base", "query_filter",
    "result_attribute", "special_result_attribute", "terminal_result_attribute",
    "leaf_result_attribute", "result_format", "result_filter", "scope", "bind", "bind_dn",
    "bind_pw", "cache", "cache_expiry", "cache_size", "dereference", "chase_referrals",
    "debuglevel", "version", "recursion_limit", "expansion_limit", "size_limit", "start_tls",
    "tls_ca_cert_dir", "tls_ca_cert_file", "tls_cert", "tls_key", "tls_require_cert",
    "tls_random_file", "tls_cipher_suite", "sasl_mechs", "sasl_realm", "sasl_authz_id",
    "sasl_minssf",
};

constexpr std::string_view kMysql[] = {
    "domain", "result_format", "expansion_limit", "hosts", "user", "password", "dbname",
    "query", "option_file", "option_group", "require_result_set", "table", "select_field",
    "where_field", "additional_conditions", "tls_cert_file", "tls_key_file", "tls_CAfile",
    "tls_CApath", "tls_ciphers", "tls_verify_cert",
};

constexpr std::string_view kPgsql[] = {
    "domain", "result_format", "expansion_limit", "hosts", "user", "password", "dbname",
    "query", "table", "select_field", "where_field", "additional_conditions", "select_function",
};

constexpr std::string_view kSqlite[] = {
    "domain", "result_format", "expansion_limit", "query", "table", "select_field",
    "where_field", "additional_conditions", "dbpath",
};

constexpr std::string_view kMemcache[] = {
    "domain", "timeout", "memcache", "backup", "flags", "ttl", "key_format",
    "data_size_limit", "line_size_limit", "max_try", "retry_pause",
};

}  // namespace

std::span<const std::string_view> dbms_settings(std::string_view type) {
    if (type == "ldap") return kLdap;
    if (type == "mysql") return kMysql;
    if (type == "pgsql") return kPgsql;
    if (type == "sqlite") return kSqlite;
    if (type == "memcache") return kMemcache;
    return {};
}

}  // namespace pf::postconf
