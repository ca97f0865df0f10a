// smtpd's settings from main.cf (and master.cf -o overrides): the limits,
// texts and lists the protocol engine uses, read once when the process
// starts, with the reference's value rules (sizes, times with units,
// boolean words). A value that does not parse is fatal, as in the
// reference.
//
// Trust: configuration only.
#include "daemon/smtpd/smtpd_state.h"
#include "daemon/smtpd/smtpd_sasl.h"

#include "config/mail_params.h"
#include "dict/dict.h"
#include "dict/dict_registry.h"
#include "mail/address_surrogate.h"
#include "mail/maps.h"
#include "util/brace_tokens.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cctype>
#include <climits>
#include <fcntl.h>

namespace pf::smtpd {

namespace {

long long get_int(const config::Config& config, std::string_view name, long long min, long long max) {
    std::string value = config.get(name);
    auto v = config::parse_int_value(value, max);
    if (!v) util::msg_fatal("bad numerical configuration: {} = {}", name, value);
    if (*v < min) util::msg_fatal("invalid {} parameter value {} < {}", name, *v, min);
    return *v;
}

int get_time(const config::Config& config, std::string_view name, int min) {
    std::string value = config.get(name);
    auto v = config::parse_time_value(value, 's');
    if (!v) util::msg_fatal("invalid {} parameter value: \"{}\"", name, value);
    if (*v < min) util::msg_fatal("invalid {} parameter value {} < {}", name, *v, min);
    return *v;
}

bool get_bool(const config::Config& config, std::string_view name) {
    std::string value = config.get(name);
    auto v = config::parse_bool_value(value);
    if (!v) util::msg_fatal("bad boolean configuration: {} = {}", name, value);
    return *v;
}

std::vector<std::string> lower_words(std::string_view text) {
    std::vector<std::string> out;
    for (auto w : util::split_tokens(text, " \t\r\n,")) out.push_back(util::to_lower(w));
    return out;
}

}  // namespace

Settings Settings::from_config(const config::Config& config) {
    Settings s;
    s.myhostname = config.get("myhostname");
    s.mail_name = config.get("mail_name");
    s.banner = config.get("smtpd_banner");
    s.queue_directory = config.get("queue_directory");
    s.cleanup_service = config.get("cleanup_service_name");
    s.content_filter = config.get("content_filter");
    s.timeout = get_time(config, "smtpd_timeout", 1);
    s.line_limit = static_cast<std::size_t>(get_int(config, "line_length_limit", 1, INT_MAX));
    s.message_size_limit = static_cast<std::uint64_t>(get_int(config, "message_size_limit", 0, LLONG_MAX));
    s.recipient_limit = static_cast<int>(get_int(config, "smtpd_recipient_limit", 1, INT_MAX));
    s.recipient_overshoot_limit = static_cast<int>(get_int(config, "smtpd_recipient_overshoot_limit", 1, INT_MAX));
    s.junk_command_limit = static_cast<int>(get_int(config, "smtpd_junk_command_limit", 1, INT_MAX));
    s.soft_error_limit = static_cast<int>(get_int(config, "smtpd_soft_error_limit", 1, INT_MAX));
    s.hard_error_limit = static_cast<int>(get_int(config, "smtpd_hard_error_limit", 1, INT_MAX));
    s.error_sleep_time = get_time(config, "smtpd_error_sleep_time", 0);
    s.disable_vrfy = get_bool(config, "disable_vrfy_command");
    s.helo_required = get_bool(config, "smtpd_helo_required");
    s.smtputf8_enable = get_bool(config, "smtputf8_enable");
    s.peername_lookup = get_bool(config, "smtpd_peername_lookup");
    s.delay_open_until_valid_rcpt = get_bool(config, "smtpd_delay_open_until_valid_rcpt");
    std::string bare = util::to_lower(config.get("smtpd_forbid_bare_newline"));
    if (bare == "no" || bare == "false" || bare.empty()) s.bare_newline = BareNewline::no;
    else if (bare == "normalize" || bare == "yes" || bare == "true") s.bare_newline = BareNewline::normalize;
    else if (bare == "reject") s.bare_newline = BareNewline::reject;
    else util::msg_fatal("invalid smtpd_forbid_bare_newline value: \"{}\"", bare);
    s.bare_newline_reject_code =
        static_cast<int>(get_int(config, "smtpd_forbid_bare_newline_reject_code", 400, 599));
    s.bare_newline_exclusions = std::make_unique<mail::NamadrList>(
        "smtpd_forbid_bare_newline_exclusions", config.get("smtpd_forbid_bare_newline_exclusions"), true);
    s.discard_ehlo = mail::ehlo_mask(config.get("smtpd_discard_ehlo_keywords"));
    if (std::string maps = config.get("smtpd_discard_ehlo_keyword_address_maps"); !maps.empty()) {
        // A table that does not open answers every lookup with an error
        // (the reference's surrogate), logged when it is used.
        std::vector<dict::DictPtr> list;
        for (const auto& word : util::split_braced_list(maps)) {
            auto t = mail::open_table_or_surrogate(word, O_RDONLY, dict::kLock | dict::kFoldFixed);
            if (!t) util::msg_fatal("{}", t.error());
            list.push_back(std::move(*t));
        }
        s.discard_ehlo_maps = std::make_shared<mail::Maps>(
            mail::Maps::from_tables("smtpd_discard_ehlo_keyword_address_maps", std::move(list)));
        s.discard_ehlo_maps->set_warn_errors(true);
    }
    for (const auto& w : lower_words(config.get("inet_protocols"))) {
        if (w == "all" || w == "ipv6") s.ipv6_enabled = true;
        if (w == "all" || w == "ipv4") s.ipv4_enabled = true;
    }
    s.noop_commands = lower_words(config.get("smtpd_noop_commands"));
    for (const auto& item : util::split_braced_list(config.get("smtpd_forbidden_commands"))) {
        auto colon = item.find(':');
        bool type_like = colon != std::string::npos && colon > 0;
        for (std::size_t i = 0; type_like && i < colon; ++i)
            if (!std::isalnum(static_cast<unsigned char>(item[i]))) type_like = false;
        if (type_like) {
            auto table = dict::open(item, 0, dict::kFoldMulti);
            if (!table) util::msg_fatal("{}", table.error().text);
            s.forbidden_tables.push_back(std::move(*table));
        } else {
            s.forbidden_words.push_back(util::to_lower(item));
        }
    }
    s.xclient_hosts = std::make_unique<mail::NamadrList>("smtpd_authorized_xclient_hosts",
                                                   config.get("smtpd_authorized_xclient_hosts"), true);
    s.xforward_hosts = std::make_unique<mail::NamadrList>("smtpd_authorized_xforward_hosts",
                                                    config.get("smtpd_authorized_xforward_hosts"), true);
    // Expanded per reply: it may name the client ($client_address, ...).
    s.reject_footer = config.raw_value("smtpd_reject_footer").value_or("");
    s.sasl = sasl_settings(config);   // smtpd_sasl.cpp
    s.tls = TlsSettings::from_config(config);   // smtpd_tls.cpp
    return s;
}

}  // namespace pf::smtpd
