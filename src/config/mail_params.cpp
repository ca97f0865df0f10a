// Start-up checks of main.cf; see mail_params.h. The tables list what the
// reference checks, learned by giving it each parameter with out-of-range
// values; the order of the checks follows the reference's where two errors
// could compete (strings, times, ints, longs, booleans, then accounts and
// host names).
#include "config/mail_params.h"

#include "util/msg.h"
#include "util/strings.h"

#include <grp.h>
#include <pwd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>

namespace pf::config {
namespace {

struct StrCheck {
    std::string_view name;
    int min;
    int max;  // 0: none
};
// String parameters with a minimum (and rarely maximum) length.
constexpr StrCheck kStrChecks[] = {
    {"myhostname", 1, 0},
    {"mydomain", 1, 0},
    {"mail_name", 1, 0},
    {"syslog_name", 1, 0},
    {"syslog_facility", 1, 0},
    {"mail_owner", 1, 0},
    {"setgid_group", 1, 0},
    {"myorigin", 1, 0},
    {"daemon_directory", 1, 0},
    {"data_directory", 1, 0},
    {"command_directory", 1, 0},
    {"meta_directory", 1, 0},
    {"shlib_directory", 1, 0},
    {"queue_directory", 1, 0},
    {"process_id_directory", 1, 0},
    {"double_bounce_sender", 1, 0},
    {"default_privs", 1, 0},
    {"mail_release_date", 1, 0},
    {"mail_version", 1, 0},
    {"default_database_type", 1, 0},
    {"hash_queue_names", 1, 0},
    {"mynetworks_style", 1, 0},
    {"default_verp_delimiters", 2, 2},
    {"verp_delimiter_filter", 1, 0},
    {"bounce_service_name", 1, 0},
    {"cleanup_service_name", 1, 0},
    {"defer_service_name", 1, 0},
    {"pickup_service_name", 1, 0},
    {"queue_service_name", 1, 0},
    {"rewrite_service_name", 1, 0},
    {"showq_service_name", 1, 0},
    {"error_service_name", 1, 0},
    {"flush_service_name", 1, 0},
    {"address_verify_service_name", 1, 0},
    {"trace_service_name", 1, 0},
    {"proxymap_service_name", 1, 0},
    {"proxywrite_service_name", 1, 0},
    {"postlog_service_name", 1, 0},
    {"smtputf8_autodetect_classes", 1, 0},
    {"info_log_address_format", 1, 0},
    {"maillog_file_compressor", 1, 0},
    {"maillog_file_prefixes", 1, 0},
    {"maillog_file_rotate_suffix", 1, 0},
};

struct TimeCheck {
    std::string_view name;
    int min;
    int max;  // 0: none
};
constexpr TimeCheck kTimeChecks[] = {
    {"application_event_drain_time", 1, 0},
    {"max_idle", 1, 0},
    {"ipc_timeout", 1, 0},
    {"ipc_idle", 1, 0},
    {"ipc_ttl", 1, 0},
    {"trigger_timeout", 1, 0},
    {"fork_delay", 1, 0},
    {"deliver_lock_delay", 1, 0},
    {"stale_lock_time", 1, 0},
    {"daemon_timeout", 1, 0},
    {"in_flow_delay", 0, 10},
};

struct IntCheck {
    std::string_view name;
    long long min;  // LLONG_MIN: none
    long long max;  // LLONG_MAX: none
    bool is_long;
};
constexpr long long kNoMin = LLONG_MIN;
constexpr long long kNoMax = LLONG_MAX;
constexpr IntCheck kIntChecks[] = {
    {"max_use", 1, kNoMax, false},
    {"dont_remove", kNoMin, kNoMax, false},
    {"line_length_limit", 512, kNoMax, false},
    {"hash_queue_depth", 1, kNoMax, false},
    {"fork_attempts", 1, kNoMax, false},
    {"deliver_lock_attempts", 1, kNoMax, false},
    {"debug_peer_level", 1, kNoMax, false},
    {"fault_injection_code", kNoMin, kNoMax, false},
    {"berkeley_db_create_buffer_size", 1, kNoMax, false},
    {"berkeley_db_read_buffer_size", 1, kNoMax, false},
    {"header_address_token_limit", 1, kNoMax, false},
    {"mime_nesting_limit", 1, kNoMax, false},
    {"mime_boundary_length_limit", 1, kNoMax, false},
    {"default_process_limit", 1, kNoMax, false},
    {"delay_logging_resolution_limit", kNoMin, 6, false},
    {"tcp_windowsize", kNoMin, kNoMax, false},
    {"header_size_limit", 1, kNoMax, false},
    {"message_size_limit", kNoMin, kNoMax, true},
    {"lmdb_map_size", 1, kNoMax, true},
};

constexpr std::string_view kBoolChecks[] = {
    "address_verify_negative_cache",
    "backwards_bounce_logfile_compatibility",
    "daemon_table_open_error_is_fatal",
    "disable_dns_lookups",
    "disable_mime_input_processing",
    "disable_mime_output_conversion",
    "dns_ncache_ttl_fix_enable",
    "enable_idna2003_compatibility",
    "enable_long_queue_ids",
    "enable_original_recipient",
    "helpful_warnings",
    "multi_instance_enable",
    "owner_request_special",
    "respectful_logging",
    "send_cyrus_sasl_authzid",
    "smtputf8_enable",
    "soft_bounce",
    "strict_7bit_headers",
    "strict_8bitmime",
    "strict_8bitmime_body",
    "strict_mime_encoding_domain",
    "strict_smtputf8",
};

constexpr std::string_view kSyslogFacilities[] = {
    "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user", "uucp",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

void check_compatibility_level(const Config& cfg) {
    std::string level = cfg.get("compatibility_level");
    // A level is digits, optionally followed by ".digits" (at most two).
    bool ok = !level.empty();
    int dots = 0;
    bool need_digit = true;
    for (char c : level) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            need_digit = false;
        } else if (c == '.' && !need_digit && dots < 2) {
            ++dots;
            need_digit = true;
        } else {
            ok = false;
        }
    }
    if (need_digit) ok = false;
    if (!ok) util::msg_fatal("malformed compatibility level syntax: \"{}\"", level);
}

struct Account {
    uid_t uid;
    gid_t gid;
};

std::optional<Account> lookup_user(const std::string& name) {
    if (const passwd* pw = ::getpwnam(name.c_str())) return Account{pw->pw_uid, pw->pw_gid};
    return std::nullopt;
}

void check_accounts(const Config& cfg) {
    // The reference looks up default_privs, mail_owner, then setgid_group,
    // and compares them after all three are found.
    const std::string main_cf = cfg.main_cf_path();
    const std::string privs = cfg.get("default_privs");
    auto privs_acct = lookup_user(privs);
    if (!privs_acct) util::msg_fatal("file {}: parameter default_privs: unknown user name value: {}", main_cf, privs);
    if (privs_acct->uid == 0) util::msg_fatal("file {}: parameter default_privs: user {} has privileged user ID", main_cf, privs);
    const std::string owner = cfg.get("mail_owner");
    auto owner_acct = lookup_user(owner);
    if (!owner_acct) util::msg_fatal("file {}: parameter mail_owner: unknown user name value: {}", main_cf, owner);
    if (owner_acct->uid == 0) util::msg_fatal("file {}: parameter mail_owner: user {} has privileged user ID", main_cf, owner);
    const std::string group = cfg.get("setgid_group");
    const struct group* gr = ::getgrnam(group.c_str());
    if (!gr) util::msg_fatal("file {}: parameter setgid_group: unknown group name: {}", main_cf, group);
    gid_t sgid = gr->gr_gid;
    if (sgid == 0) util::msg_fatal("file {}: parameter setgid_group: group {} has privileged group ID", main_cf, group);
    if (owner_acct->uid == privs_acct->uid)
        util::msg_fatal("file {}: parameters default_privs and mail_owner specify the same user {}", main_cf, privs);
    if (owner_acct->gid == privs_acct->gid)
        util::msg_fatal("file {}: parameters default_privs and mail_owner: users {} and {} have the same group ID: {}",
                        main_cf, privs, owner, privs_acct->gid);
    if (owner_acct->gid == sgid)
        util::msg_fatal("file {}: parameters mail_owner and setgid_group: user {} and group {} have the same group ID: {}",
                        main_cf, owner, group, sgid);
    if (privs_acct->gid == sgid)
        util::msg_fatal("file {}: parameters default_privs and setgid_group: user {} and group {} have the same group ID: {}",
                        main_cf, privs, group, sgid);
}

void check_host_name(const Config& cfg, std::string_view name) {
    std::string value = cfg.get(name);
    if (!valid_hostname(value, true))
        util::msg_fatal("file {}: parameter {}: bad parameter value: {}", cfg.main_cf_path(), name, value);
}

void check_word_list(const Config& cfg, std::string_view name, std::initializer_list<std::string_view> words,
                     std::string_view what) {
    std::string value = cfg.get(name);
    for (auto w : util::split_tokens(value, util::kListSeparators)) {
        bool known = false;
        for (auto k : words)
            if (util::iequals(w, k)) known = true;
        if (!known) util::msg_fatal("unknown {} value \"{}\" in \"{}\"", what, w, value);
    }
}

}  // namespace

std::optional<bool> parse_bool_value(std::string_view text) {
    if (util::iequals(text, "yes")) return true;
    if (util::iequals(text, "no")) return false;
    return std::nullopt;
}

bool get_bool_param(const Config& config, const std::string& name) {
    std::string value = config.get(name);
    auto v = parse_bool_value(value);
    if (!v) util::msg_fatal("bad boolean configuration: {} = {}", name, value);
    return *v;
}

std::optional<long long> parse_int_value(std::string_view text, long long max) {
    std::string s(text);
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (end == s.c_str() || errno == ERANGE) return std::nullopt;
    while (*end && std::isspace(static_cast<unsigned char>(*end))) ++end;
    if (*end) return std::nullopt;
    if (v > max || v < -max - 1) return std::nullopt;
    return v;
}

std::optional<int> parse_time_value(std::string_view text, char default_unit) {
    std::string s(text);
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s.c_str(), &end, 10);
    if (errno == ERANGE || v < 0 || v > INT_MAX) return std::nullopt;
    char unit = *end ? *end : default_unit;
    long mult;
    switch (unit) {
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 604800; break;
    default: return std::nullopt;
    }
    if (mult > 1 && v >= INT_MAX / mult) return std::nullopt;
    return static_cast<int>(v * mult);
}

bool valid_hostname(std::string_view name, bool warn) {
    auto bad = [&](std::string_view why) {
        if (warn) util::msg_warn("valid_hostname: {}: {}", why, name);
        return false;
    };
    if (name.empty()) {
        if (warn) util::msg_warn("valid_hostname: empty hostname");
        return false;
    }
    if (name.size() > 255) {
        if (warn) util::msg_warn("valid_hostname: bad length {} for {}...", name.size(), name.substr(0, 100));
        return false;
    }
    size_t label_len = 0;
    bool non_numeric = false;
    for (size_t i = 0; i < name.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(name[i]);
        if (std::isalnum(c) || c == '_') {
            if (!std::isdigit(c)) non_numeric = true;
            if (++label_len > 63) {
                if (warn) util::msg_warn("valid_hostname: hostname label too long: {}", name);
                return false;
            }
        } else if (c == '.') {
            if (label_len == 0 || i + 1 == name.size()) return bad("misplaced delimiter");
            label_len = 0;
        } else if (c == '-') {
            non_numeric = true;
            if (label_len == 0 || i + 1 == name.size() || name[i + 1] == '.') return bad("misplaced hyphen");
            ++label_len;
        } else {
            if (warn) util::msg_warn("valid_hostname: invalid character {}(decimal): {}", static_cast<int>(c), name);
            return false;
        }
    }
    if (!non_numeric) return bad("numeric hostname");
    return true;
}

void check_mail_params(const Config& cfg) {
    if (cfg.raw_value("compatibility_level")) check_compatibility_level(cfg);

    for (const auto& c : kStrChecks) {
        std::string v = cfg.get(c.name);
        int len = static_cast<int>(v.size());
        if (len < c.min) util::msg_fatal("bad string length {} < {}: {} = {}", len, c.min, c.name, v);
        if (c.max && len > c.max) util::msg_fatal("bad string length {} > {}: {} = {}", len, c.max, c.name, v);
    }
    for (const auto& c : kTimeChecks) {
        std::string v = cfg.get(c.name);
        auto t = parse_time_value(v, 's');
        if (!t) util::msg_fatal("parameter {}: bad time value or unit: {}", c.name, v);
        if (*t < c.min) util::msg_fatal("invalid {}: {} (min {})", c.name, *t, c.min);
        if (c.max && *t > c.max) util::msg_fatal("invalid {}: {} (max {})", c.name, *t, c.max);
    }
    for (const auto& c : kIntChecks) {
        std::string v = cfg.get(c.name);
        auto n = parse_int_value(util::trim(v), c.is_long ? LLONG_MAX : INT_MAX);
        if (!n) util::msg_fatal("bad numerical configuration: {} = {}", c.name, v);
        if (*n < c.min) util::msg_fatal("invalid {} parameter value {} < {}", c.name, *n, c.min);
        if (*n > c.max) util::msg_fatal("invalid {} parameter value {} > {}", c.name, *n, c.max);
    }
    for (auto name : kBoolChecks) {
        std::string v = cfg.get(name);
        if (!parse_bool_value(v)) util::msg_fatal("bad boolean configuration: {} = {}", name, v);
    }

    check_host_name(cfg, "myhostname");
    check_host_name(cfg, "mydomain");
    check_accounts(cfg);

    std::string facility = cfg.get("syslog_facility");
    bool facility_ok = false;
    for (auto f : kSyslogFacilities)
        if (util::iequals(f, facility)) facility_ok = true;
    if (!facility_ok)
        util::msg_fatal("file {}: parameter syslog_facility: unrecognized value: {}", cfg.main_cf_path(), facility);

    std::string delims = cfg.get("default_verp_delimiters");
    std::string filter = cfg.get("verp_delimiter_filter");
    for (size_t i = 0; i < delims.size() && i < 2; ++i) {
        if (filter.find(delims[i]) == std::string::npos)
            util::msg_fatal("file {}: parameters default_verp_delimiters and verp_delimiter_filter: bad {} VERP delimiter character",
                            cfg.main_cf_path(), i == 0 ? "first" : "second");
    }

    check_word_list(cfg, "inet_protocols", {"all", "ipv4", "ipv6"}, "inet_protocols");
    std::string style = cfg.get("mynetworks_style");
    if (!util::iequals(style, "host") && !util::iequals(style, "subnet") && !util::iequals(style, "class"))
        util::msg_fatal("unknown mynetworks mask style value \"{}\" in \"{}\"", style, style);
}

}  // namespace pf::config
