// Header dates; see mail_date.h.
#include "mail/mail_date.h"

#include <cstdlib>
#include <fmt/format.h>

namespace pf::mail {

std::string mail_date(std::time_t when) {
    static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm gmt{};
    std::tm lt{};
    gmtime_r(&when, &gmt);
    localtime_r(&when, &lt);
    // The offset from UTC in minutes, computed from the two broken-down times.
    int off = (lt.tm_hour - gmt.tm_hour) * 60 + lt.tm_min - gmt.tm_min;
    if (lt.tm_year < gmt.tm_year) off -= 24 * 60;
    else if (lt.tm_year > gmt.tm_year) off += 24 * 60;
    else if (lt.tm_yday < gmt.tm_yday) off -= 24 * 60;
    else if (lt.tm_yday > gmt.tm_yday) off += 24 * 60;
    char zone[64];
    if (std::strftime(zone, sizeof zone, "%Z", &lt) == 0) zone[0] = 0;
    return fmt::format("{}, {:2d} {} {} {:02d}:{:02d}:{:02d} {}{:02d}{:02d} ({})", kDays[lt.tm_wday % 7], lt.tm_mday,
                       kMonths[lt.tm_mon % 12], lt.tm_year + 1900, lt.tm_hour, lt.tm_min, lt.tm_sec,
                       off < 0 ? '-' : '+', std::abs(off) / 60, std::abs(off) % 60, zone);
}

}  // namespace pf::mail
