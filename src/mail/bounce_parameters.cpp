// The bounce daemon's parameter names; see bounce_parameters.h.
#include "mail/bounce_parameters.h"

#include <algorithm>

namespace pf::mail {
namespace {

constexpr std::string_view kNames[] = {
    "2bounce_notice_recipient", "address_verify_negative_cache", "address_verify_service_name", "alias_database",
    "alternate_config_directories", "application_event_drain_time", "backwards_bounce_logfile_compatibility",
    "berkeley_db_create_buffer_size", "berkeley_db_read_buffer_size", "bounce_notice_recipient",
    "bounce_service_name", "bounce_size_limit", "bounce_template_file", "cleanup_service_name", "command_directory",
    "compatibility_level", "config_directory", "daemon_directory", "daemon_table_open_error_is_fatal",
    "daemon_timeout", "data_directory", "debug_peer_level", "debug_peer_list", "default_database_type",
    "default_delivery_status_filter", "default_privs", "default_process_limit", "default_verp_delimiters",
    "defer_service_name", "delay_logging_resolution_limit", "delay_notice_recipient", "delay_warning_time",
    "deliver_lock_attempts", "deliver_lock_delay", "disable_dns_lookups", "disable_mime_input_processing",
    "disable_mime_output_conversion", "dns_ncache_ttl_fix_enable", "dnssec_probe", "dont_remove",
    "double_bounce_sender", "enable_idna2003_compatibility", "enable_long_queue_ids", "enable_original_recipient",
    "enable_threaded_bounces", "error_service_name", "export_environment", "fast_flush_domains",
    "fault_injection_code", "flush_service_name", "fork_attempts", "fork_delay", "hash_queue_depth",
    "hash_queue_names", "header_address_token_limit", "header_from_format", "header_size_limit", "helpful_warnings",
    "import_environment", "in_flow_delay", "inet_interfaces", "inet_protocols", "info_log_address_format",
    "internal_mail_filter_classes", "ipc_idle", "ipc_timeout", "ipc_ttl", "known_tcp_ports", "line_length_limit",
    "lmdb_map_size", "mail_name", "mail_owner", "mail_release_date", "mail_version", "maillog_file",
    "maillog_file_compressor", "maillog_file_prefixes", "maillog_file_rotate_suffix", "max_idle", "max_use",
    "maximal_queue_lifetime", "message_drop_headers", "message_size_limit", "meta_directory",
    "mime_boundary_length_limit", "mime_nesting_limit", "multi_instance_directories", "multi_instance_enable",
    "multi_instance_group", "multi_instance_name", "multi_instance_wrapper", "mydestination", "mydomain",
    "myhostname", "mynetworks", "mynetworks_style", "myorigin", "notify_classes", "owner_request_special",
    "parent_domain_matches_subdomains", "pickup_service_name", "postlog_service_name", "process_id",
    "process_id_directory", "process_name", "proxy_interfaces", "proxymap_service_name", "proxywrite_service_name",
    "queue_directory", "queue_service_name", "recipient_delimiter", "relay_domains", "relayhost",
    "respectful_logging", "rewrite_service_name", "send_cyrus_sasl_authzid", "service_name", "setgid_group",
    "shlib_directory", "showq_service_name", "smtputf8_autodetect_classes", "smtputf8_enable", "soft_bounce",
    "stale_lock_time", "strict_7bit_headers", "strict_8bitmime", "strict_8bitmime_body",
    "strict_mime_encoding_domain", "strict_smtputf8", "syslog_facility", "syslog_name", "tcp_windowsize",
    "trace_service_name", "trigger_timeout", "verp_delimiter_filter",
};

}  // namespace

std::span<const std::string_view> bounce_parameter_names() { return kNames; }

bool bounce_knows_parameter(std::string_view name) {
    return std::binary_search(std::begin(kNames), std::end(kNames), name);
}

}  // namespace pf::mail
