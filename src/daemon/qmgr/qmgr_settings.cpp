// Reading the queue manager's settings; see qmgr_settings.h.
#include "daemon/qmgr/qmgr_settings.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "util/msg.h"
#include "util/strings.h"

#include <climits>

namespace pf::qmgr {

ParamLookup config_lookup(const config::Config& config) {
    return [&config](std::string_view name) -> std::optional<std::string> {
        if (!config.raw_value(name)) return std::nullopt;
        return config.get(name);
    };
}

int lookup_int(const ParamLookup& lookup, std::string_view name, int fallback, int min, int max) {
    auto text = lookup(name);
    if (!text) return fallback;
    auto value = config::parse_int_value(*text, INT_MAX);
    if (!value) util::msg_fatal("bad numerical configuration: {} = {}", name, *text);
    if (*value < min) util::msg_fatal("invalid {} parameter value {} < {}", name, *value, min);
    if (max > 0 && *value > max) util::msg_fatal("invalid {} parameter value {} > {}", name, *value, max);
    return static_cast<int>(*value);
}

int lookup_time(const ParamLookup& lookup, std::string_view name, int fallback, char unit, int min, int max) {
    auto text = lookup(name);
    if (!text) return fallback;
    auto value = config::parse_time_value(*text, unit);
    if (!value) util::msg_fatal("invalid {} parameter value: {}", name, *text);
    if (*value < min) util::msg_fatal("invalid {} parameter value {} < {}", name, *value, min);
    if (max > 0 && *value > max) util::msg_fatal("invalid {} parameter value {} > {}", name, *value, max);
    return *value;
}

namespace {

std::string lookup_str(const ParamLookup& lookup, std::string_view name, std::string fallback) {
    auto text = lookup(name);
    return text ? *text : std::move(fallback);
}

}  // namespace

QmgrSettings QmgrSettings::from_lookup(const ParamLookup& lookup) {
    QmgrSettings s;
    s.queue_directory = lookup_str(lookup, "queue_directory", "/var/spool/postfix");
    s.queue_run_delay = lookup_time(lookup, "queue_run_delay", s.queue_run_delay, 's', 1, 0);
    s.min_backoff = lookup_time(lookup, "minimal_backoff_time", s.min_backoff, 's', 1, 0);
    s.max_backoff = lookup_time(lookup, "maximal_backoff_time", s.max_backoff, 's', 1, 0);
    s.max_queue_lifetime = lookup_time(lookup, "maximal_queue_lifetime", s.max_queue_lifetime, 'd', 0, 8640000);
    s.bounce_queue_lifetime = lookup_time(lookup, "bounce_queue_lifetime", s.bounce_queue_lifetime, 'd', 0, 8640000);
    s.transport_retry_time = lookup_time(lookup, "transport_retry_time", s.transport_retry_time, 's', 1, 0);
    s.ipc_timeout = lookup_time(lookup, "qmgr_ipc_timeout", s.ipc_timeout, 's', 1, 0);
    s.daemon_timeout = lookup_time(lookup, "daemon_timeout", s.daemon_timeout, 's', 1, 0);
    s.active_limit = lookup_int(lookup, "qmgr_message_active_limit", s.active_limit, 1, 0);
    s.recipient_limit = lookup_int(lookup, "qmgr_message_recipient_limit", s.recipient_limit, 1, 0);
    s.dest_concurrency_limit =
        lookup_int(lookup, "default_destination_concurrency_limit", s.dest_concurrency_limit, 0, 0);
    s.dest_recipient_limit = lookup_int(lookup, "default_destination_recipient_limit", s.dest_recipient_limit, 0, 0);
    s.initial_concurrency = lookup_int(lookup, "initial_destination_concurrency", s.initial_concurrency, 1, 0);
    s.dest_rate_delay = lookup_time(lookup, "default_destination_rate_delay", s.dest_rate_delay, 's', 0, 0);
    s.failed_cohort_limit =
        lookup_int(lookup, "default_destination_concurrency_failed_cohort_limit", s.failed_cohort_limit, 0, 0);
    s.positive_feedback = lookup_str(lookup, "default_destination_concurrency_positive_feedback", "1");
    s.negative_feedback = lookup_str(lookup, "default_destination_concurrency_negative_feedback", "1");
    const std::string defer_transports = lookup_str(lookup, "defer_transports", "");  // the views point into it
    for (auto word : util::split_tokens(defer_transports, ", \t\r\n"))
        s.defer_transports.emplace_back(word);
    s.default_filter_nexthop = lookup_str(lookup, "default_filter_nexthop", "");
    s.myhostname = lookup_str(lookup, "myhostname", s.myhostname);
    s.double_bounce_sender = lookup_str(lookup, "double_bounce_sender", s.double_bounce_sender);
    s.recipient_delimiter = lookup_str(lookup, "recipient_delimiter", "");
    s.delay_resolution = lookup_int(lookup, "delay_logging_resolution_limit", s.delay_resolution, 0, 6);
    s.bounce_service = lookup_str(lookup, "bounce_service_name", s.bounce_service);
    s.defer_service = lookup_str(lookup, "defer_service_name", s.defer_service);
    s.error_service = lookup_str(lookup, "error_service_name", s.error_service);
    s.retry_service = "retry";
    s.trace_service = lookup_str(lookup, "trace_service_name", s.trace_service);
    s.confirm_delay_cleared = config::parse_bool_value(lookup_str(lookup, "confirm_delay_cleared", "no")).value_or(false);
    // The reference's start-up sanity adjustments.
    if (s.recipient_limit < s.active_limit) {
        util::msg_warn("qmgr_message_recipient_limit is smaller than qmgr_message_active_limit - adjusting "
                       "qmgr_message_recipient_limit");
        s.recipient_limit = s.active_limit;
    }
    if (s.bounce_queue_lifetime > s.max_queue_lifetime) {
        util::msg_warn("bounce_queue_lifetime is larger than maximal_queue_lifetime - adjusting "
                       "bounce_queue_lifetime");
        s.bounce_queue_lifetime = s.max_queue_lifetime;
    }
    return s;
}

TransportLimits TransportLimits::for_transport(std::string_view transport, const ParamLookup& lookup,
                                               const QmgrSettings& settings) {
    TransportLimits t;
    std::string prefix(transport);
    t.dest_concurrency_limit = lookup_int(lookup, prefix + "_destination_concurrency_limit",
                                          settings.dest_concurrency_limit, 0, 0);
    t.recipient_limit =
        lookup_int(lookup, prefix + "_destination_recipient_limit", settings.dest_recipient_limit, 0, 0);
    t.initial_concurrency =
        lookup_int(lookup, prefix + "_initial_destination_concurrency", settings.initial_concurrency, 1, 0);
    t.rate_delay = lookup_time(lookup, prefix + "_destination_rate_delay", settings.dest_rate_delay, 's', 0, 0);
    if (t.rate_delay > 0) t.dest_concurrency_limit = 1;
    if (t.dest_concurrency_limit != 0 && t.dest_concurrency_limit < t.initial_concurrency)
        t.initial_concurrency = t.dest_concurrency_limit;
    t.failed_cohort_limit = lookup_int(lookup, prefix + "_destination_concurrency_failed_cohort_limit",
                                       settings.failed_cohort_limit, 0, 0);
    auto feedback = [&](std::string_view suffix, std::string_view default_name, const std::string& fallback) {
        std::string name = prefix + std::string(suffix);
        auto text = lookup(name);
        std::string value = text ? *text : fallback;
        return parse_feedback(value, value != fallback ? std::string_view(name) : default_name);
    };
    t.positive = feedback("_destination_concurrency_positive_feedback",
                          "default_destination_concurrency_positive_feedback", settings.positive_feedback);
    t.negative = feedback("_destination_concurrency_negative_feedback",
                          "default_destination_concurrency_negative_feedback", settings.negative_feedback);
    return t;
}

}  // namespace pf::qmgr
