// The delivery log line (deliver_log.h): delay arithmetic and the number
// format of the reference, reproduced from its observed output: values
// below 10 s keep two significant digits limited by the resolution, values
// of 10 s or more are whole seconds, trailing zeros are dropped, and
// rounding is half-up at the last kept digit.
#include "ipc/deliver_log.h"

#include "mail/address_quote.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::ipc {

namespace {

constexpr long kMillion = 1000000;

struct Delta {
    long sec = 0;
    long usec = 0;
};

// later - earlier, normalised; negative results become zero.
Delta delta(const TimeStamp& later, const TimeStamp& earlier) {
    Delta d{static_cast<long>(later.sec - earlier.sec), static_cast<long>(later.usec - earlier.usec)};
    while (d.usec < 0) {
        d.usec += kMillion;
        d.sec -= 1;
    }
    while (d.usec >= kMillion) {
        d.usec -= kMillion;
        d.sec += 1;
    }
    if (d.sec < 0) d = Delta{};
    return d;
}

bool stamped(const TimeStamp& t) { return t.sec > 0; }

}  // namespace

std::string format_delay(long sec, long usec, int significant_digits, int max_decimals) {
    static constexpr long kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    if (max_decimals < 0) max_decimals = 0;
    if (max_decimals > 6) max_decimals = 6;
    if (significant_digits < 1) significant_digits = 1;
    if (significant_digits > 6) significant_digits = 6;
    if (sec < 0) sec = 0;
    if (usec < 0) usec = 0;
    if (usec > kMillion) usec = kMillion;

    // The unit of the last digit we keep, in microseconds.
    long unit = kMillion / kPow10[max_decimals];
    const long width = kPow10[significant_digits];
    if (unit < kMillion) {
        if (sec > 0) {
            // Whole seconds take up some of the significant digits.
            long n = 1;
            while (sec >= n && n <= width / 10) n *= 10;
            unit = (kMillion / width) * n;
        } else {
            while (usec >= width * unit) unit *= 10;
        }
    }
    if (unit > 1) {
        usec += unit / 2;
        if (usec >= kMillion) {
            sec += 1;
            usec -= kMillion;
        }
    }
    std::string out = fmt::format("{}", sec);
    if (usec >= unit) {
        out += '.';
        long rest = usec;
        for (long digit = kMillion / 10; rest >= unit && digit > 0; digit /= 10) {
            out += static_cast<char>('0' + rest / digit);
            rest %= digit;
        }
    }
    return out;
}

std::string log_address_form(std::string_view address, const DeliveryLogSettings& settings) {
    if (!settings.external_addresses) return std::string(address);
    return mail::quote_822_local(address);
}

std::string delivery_log_line(std::string_view queue_id, const MessageTimes& times,
                              const DeliveryRecipient& recipient, std::string_view relay, const Dsn& dsn,
                              std::string_view status, const DeliveryLogSettings& settings, TimeStamp now) {
    std::string line = fmt::format("{}: to=<{}>", queue_id, log_address_form(recipient.address, settings));
    if (!recipient.orig_addr.empty() && !util::iequals(recipient.address, recipient.orig_addr))
        line += fmt::format(", orig_to=<{}>", log_address_form(recipient.orig_addr, settings));
    line += fmt::format(", relay={}", relay);
    if (times.reuse_count > 0) line += fmt::format(", conn_use={}", times.reuse_count + 1);

    TimeStamp end = stamped(times.deliver_done) ? times.deliver_done : now;
    Delta total = delta(end, times.incoming_arrival);
    Delta before_qmgr, in_qmgr, setup, transfer;
    if (stamped(times.active_arrival)) {
        before_qmgr = delta(times.active_arrival, times.incoming_arrival);
        if (stamped(times.agent_handoff)) {
            in_qmgr = delta(times.agent_handoff, times.active_arrival);
            if (stamped(times.conn_setup_done)) {
                setup = delta(times.conn_setup_done, times.agent_handoff);
                transfer = delta(end, times.conn_setup_done);
            } else {
                transfer = delta(end, times.agent_handoff);
            }
        } else {
            in_qmgr = delta(end, times.active_arrival);
        }
    } else {
        before_qmgr = delta(end, times.incoming_arrival);
    }
    auto fmt_delay = [&](const Delta& d) { return format_delay(d.sec, d.usec, 2, settings.resolution_limit); };
    line += fmt::format(", delay={}, delays={}/{}/{}/{}", fmt_delay(total), fmt_delay(before_qmgr),
                        fmt_delay(in_qmgr), fmt_delay(setup), fmt_delay(transfer));
    line += fmt::format(", dsn={}, status={} ({})", dsn.status, status, dsn.reason);
    return line;
}

}  // namespace pf::ipc
