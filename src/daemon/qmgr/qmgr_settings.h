// The main.cf settings the queue manager works with, read once at start-up,
// and the per-transport limits derived from them: for a transport T,
// T_destination_concurrency_limit, T_destination_recipient_limit,
// T_initial_destination_concurrency, T_destination_rate_delay,
// T_destination_concurrency_failed_cohort_limit and the two feedback
// settings override the global defaults, as in the reference's qmgr
// (a rate delay forces the concurrency limit to 1; the initial concurrency
// never exceeds a non-zero limit).
//
// Trust: main.cf is admin-written; bad numbers are fatal with the
// reference's words, as at any daemon's start-up.
#pragma once

#include "daemon/qmgr/qmgr_feedback.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::config { class Config; }

namespace pf::qmgr {

// Returns the expanded value of a parameter, nullopt when it is not set
// anywhere (no built-in, per-service or main.cf value).
using ParamLookup = std::function<std::optional<std::string>(std::string_view name)>;

// A lookup over a loaded configuration.
ParamLookup config_lookup(const config::Config& config);

struct QmgrSettings {
    std::string queue_directory;
    int queue_run_delay = 300;
    int min_backoff = 300;
    int max_backoff = 4000;
    int max_queue_lifetime = 5 * 86400;
    int bounce_queue_lifetime = 5 * 86400;
    int transport_retry_time = 60;
    int ipc_timeout = 60;
    int daemon_timeout = 18000;
    int active_limit = 20000;
    int recipient_limit = 20000;
    int dest_concurrency_limit = 20;
    int dest_recipient_limit = 50;
    int initial_concurrency = 5;
    int dest_rate_delay = 0;
    int failed_cohort_limit = 1;
    std::string positive_feedback = "1";
    std::string negative_feedback = "1";
    std::vector<std::string> defer_transports;
    std::string default_filter_nexthop;
    std::string myhostname = "localhost";
    std::string double_bounce_sender = "double-bounce";
    std::string recipient_delimiter;
    int delay_resolution = 2;       // delay_logging_resolution_limit
    std::string bounce_service = "bounce";
    std::string defer_service = "defer";
    std::string error_service = "error";
    std::string retry_service = "retry";
    std::string trace_service = "trace";
    bool confirm_delay_cleared = false;  // a "delay cleared" report after a delay warning

    // Reads and checks every setting (fatal on a bad value, as the
    // reference). Applies the reference's start-up adjustment of
    // bounce_queue_lifetime (never above maximal_queue_lifetime).
    static QmgrSettings from_lookup(const ParamLookup& lookup);
};

struct TransportLimits {
    int dest_concurrency_limit = 20;  // 0: no limit
    int recipient_limit = 50;         // 0: no limit
    int initial_concurrency = 5;
    int rate_delay = 0;               // seconds between deliveries to one destination
    int failed_cohort_limit = 1;      // 0: never declare a destination dead
    Feedback positive;
    Feedback negative;

    static TransportLimits for_transport(std::string_view transport, const ParamLookup& lookup,
                                         const QmgrSettings& settings);
};

// Typed getters with the reference's range checks (fatal otherwise).
int lookup_int(const ParamLookup& lookup, std::string_view name, int fallback, int min, int max);
int lookup_time(const ParamLookup& lookup, std::string_view name, int fallback, char unit, int min, int max);

}  // namespace pf::qmgr
