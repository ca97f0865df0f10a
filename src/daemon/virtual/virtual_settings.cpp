// virtual(8) settings from main.cf: see virtual_settings.h.
#include "virtual_settings.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "mail/address_surrogate.h"
#include "mailbox/mailbox.h"
#include "util/brace_tokens.h"
#include "util/strings.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>
#include <stdexcept>

namespace pf::virtual_agent {

namespace {

std::optional<mail::Maps> open_maps(const config::Config& c, std::string_view name) {
    std::string value = c.get(name);
    // The reference's DICT_FLAG_PARANOID: no $n substitution in pattern
    // results, no proxy:, no unauthorised tables.
    const dict::Flags flags = dict::kLock | dict::kParanoid | dict::kNoRegSub | dict::kNoProxy | dict::kNoUnauth |
                              dict::kUtf8Request | dict::kFoldFixed;
    // As the reference's maps_create: a table that cannot be opened (not
    // allowed here, server down) is logged and stands in as one whose
    // lookups fail; errors are warned as maps_find warns them.
    std::vector<dict::DictPtr> tables;
    for (const auto& table : util::split_braced_list(value)) {
        // proxy: is opened directly here (kNoProxy), as the reference's
        // proxy client does silently: an open failure names the inner table.
        std::string_view direct = table;
        if (direct.starts_with("proxy:")) direct.remove_prefix(6);
        auto d = mail::open_table_or_surrogate(direct, O_RDONLY, flags);
        if (!d) throw std::runtime_error(d.error());
        tables.push_back(std::move(*d));
    }
    auto m = mail::Maps::from_tables(std::string(name), std::move(tables));
    m.set_warn_errors(true);
    return m;
}

long long integer(const config::Config& c, std::string_view name, long long min) {
    std::string value = c.get(name);
    auto n = config::parse_int_value(value, 1LL << 62);
    if (!n) throw std::runtime_error(fmt::format("bad numerical configuration: {} = {}", name, value));
    if (*n < min) throw std::runtime_error(fmt::format("invalid {} parameter value {} < {}", name, *n, min));
    return *n;
}

int seconds(const config::Config& c, std::string_view name) {
    std::string value = c.get(name);
    auto t = config::parse_time_value(value, 's');
    if (!t) throw std::runtime_error(fmt::format("invalid time value for parameter {}: {}", name, value));
    return *t;
}

}  // namespace

VirtualSettings VirtualSettings::from_config(const config::Config& c) {
    VirtualSettings s;
    s.minimum_uid = static_cast<long>(integer(c, "virtual_minimum_uid", 1));
    s.mailbox_limit = static_cast<off_t>(integer(c, "virtual_mailbox_limit", 0));
    long long message_limit = integer(c, "message_size_limit", 0);
    if (s.mailbox_limit > 0) {
        if (message_limit == 0)
            throw std::runtime_error(
                "configuration error: virtual_mailbox_limit is limited but message_size_limit is unlimited");
        if (s.mailbox_limit < message_limit)
            throw std::runtime_error("configuration error: virtual_mailbox_limit is smaller than message_size_limit");
    }
    s.mailbox_base = c.get("virtual_mailbox_base");
    auto styles = mailbox::parse_lock_styles(c.get("virtual_mailbox_lock"), "mailbox_delivery_lock");
    if (!styles) throw std::runtime_error(styles.error());
    s.lock_styles = *styles;
    s.strict_mailbox_ownership = config::parse_bool_value(c.get("strict_mailbox_ownership")).value_or(true);
    s.enable_original_recipient = config::parse_bool_value(c.get("enable_original_recipient")).value_or(true);
    s.lock_attempts = static_cast<int>(integer(c, "deliver_lock_attempts", 1));
    s.lock_delay = seconds(c, "deliver_lock_delay");
    s.stale_lock_time = seconds(c, "stale_lock_time");
    s.mailbox_maps = open_maps(c, "virtual_mailbox_maps");
    s.uid_maps = open_maps(c, "virtual_uid_maps");
    s.gid_maps = open_maps(c, "virtual_gid_maps");
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) == 0) s.hostname = host;
    s.find_ctx.recipient_delimiter = c.get("recipient_delimiter");
    s.find_ctx.myorigin = c.get("myorigin");
    s.find_ctx.is_local = mail::mydestination_test(c.get("mydestination"));
    return s;
}

}  // namespace pf::virtual_agent
