// The per-recipient log line every delivery agent writes, as the
// reference writes it (its log_adhoc):
//   QID: to=<rcpt>[, orig_to=<orig>], relay=R[, conn_use=N], delay=D,
//   delays=a/b/c/d, dsn=X.Y.Z, status=S (reason)
// orig_to appears when the original recipient is set and differs from the
// recipient other than in case; addresses are shown in external (quoted)
// form unless info_log_address_format = internal. The delays come from
// MessageTimes (delivery_request.h): total, before qmgr, in qmgr,
// connection set-up, transmission; each is rounded to two significant
// digits and at most delay_logging_resolution_limit decimals, with whole
// seconds once the value is 10 s or more (format_delay below).
//
// Trust: addresses and reason text are logged as given; the logging layer
// makes them printable.
#pragma once

#include "ipc/deliver_dsn.h"
#include "ipc/delivery_request.h"

#include <string>
#include <string_view>

namespace pf::ipc {

struct DeliveryLogSettings {
    int resolution_limit = 2;       // delay_logging_resolution_limit (0-6)
    bool external_addresses = true; // info_log_address_format = external
};

// One delay value in the reference's notation ("0", "0.01", "1.2", "13").
std::string format_delay(long sec, long usec, int significant_digits, int max_decimals);

// The line without the program prefix; now is used when the times have no
// deliver_done stamp.
std::string delivery_log_line(std::string_view queue_id, const MessageTimes& times,
                              const DeliveryRecipient& recipient, std::string_view relay, const Dsn& dsn,
                              std::string_view status, const DeliveryLogSettings& settings, TimeStamp now);

// An address as the log shows it (external or internal form).
std::string log_address_form(std::string_view address, const DeliveryLogSettings& settings);

}  // namespace pf::ipc
