// The bounce daemon's own parameters, checked at start-up after the checks
// every program makes (config/mail_params.h): bounce_size_limit (an integer
// of at least 1), the notice recipients (non-empty), maximal_queue_lifetime
// (a time of at most 100 days) and delay_warning_time (a time). A bad value
// is fatal in the reference's words, in its order (integers, strings, then
// times).
#pragma once

#include "config/config.h"

namespace pf::bounce {

void check_bounce_params(const config::Config& config);

}  // namespace pf::bounce
