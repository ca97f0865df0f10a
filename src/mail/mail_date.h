// Dates in message headers, as the reference writes them in Date:,
// Resent-Date: and Received: headers: "Sat, 28 Nov 2026 03:29:06 +0000 (UTC)"
// (local time, day of month padded with a blank, the UTC offset as +hhmm,
// then the zone name in parentheses; English names whatever the locale).
#pragma once

#include <ctime>
#include <string>

namespace pf::mail {

std::string mail_date(std::time_t when);

}  // namespace pf::mail
