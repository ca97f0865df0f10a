// Start-up checks of the bounce daemon's parameters; see bounce_params.h.
#include "bounce_params.h"

#include "config/mail_params.h"
#include "config/parameter_catalogue.h"
#include "util/msg.h"
#include "util/strings.h"

#include <climits>
#include <string_view>

namespace pf::bounce {
namespace {

constexpr std::string_view kNonEmpty[] = {"bounce_notice_recipient", "2bounce_notice_recipient",
                                          "delay_notice_recipient"};
struct TimeLimit {
    std::string_view name;
    int max;  // 0: none
};
constexpr TimeLimit kTimes[] = {{"maximal_queue_lifetime", 100 * 86400}, {"delay_warning_time", 0}};

}  // namespace

void check_bounce_params(const config::Config& config) {
    std::string size_limit = config.get("bounce_size_limit");
    auto n = config::parse_int_value(util::trim(size_limit), INT_MAX);
    if (!n) util::msg_fatal("bad numerical configuration: bounce_size_limit = {}", size_limit);
    if (*n < 1) util::msg_fatal("invalid bounce_size_limit parameter value {} < 1", *n);

    for (auto name : kNonEmpty) {
        std::string v = config.get(name);
        if (v.empty()) util::msg_fatal("bad string length 0 < 1: {} = ", name);
    }
    for (const auto& t : kTimes) {
        std::string v = config.get(t.name);
        const config::ParamInfo* info = config::find_builtin(t.name);
        auto seconds = config::parse_time_value(v, info ? info->unit : 's');
        if (!seconds) util::msg_fatal("parameter {}: bad time value or unit: {}", t.name, v);
        if (t.max && *seconds > t.max) util::msg_fatal("invalid {}: {} (max {})", t.name, *seconds, t.max);
    }
}

}  // namespace pf::bounce
