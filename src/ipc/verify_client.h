// Client side of the address verification service (verify(8), on
// private/$address_verify_service_name), as the reference's smtpd and
// delivery agents use it:
//   {request=query, address=A}
//       → {status=<VerifyStatus>, addr_status=<RecipientStatus>, reason=T}
//   {request=update, address=A, addr_status=<RecipientStatus>, reason=T}
//       → {status=<VerifyStatus>}
// A query answers at once; when the cache has no fresh answer the service
// says "todo" (the probe is under way) and sends a probe message.
// Updates come from delivery agents that handled a probe (the reference's
// verify_append).
//
// Trust: the address may come from a remote SMTP client; it is forwarded
// as given (the service checks it). The reply is parsed strictly; any
// malformed or missing field is a service failure.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace pf::config { class Config; }

namespace pf::ipc {

// The service's answer status (the reference's VRFY_STAT_* in meaning).
enum class VerifyStatus : int {
    kOk = 0,     // request done
    kFail = -1,  // the service failed (or could not be reached)
    kBad = -2,   // malformed request
};

// The status of one address (the reference's DEL_RCPT_STAT_* values; they
// are also the first field of a verify cache entry).
enum class RecipientStatus : int {
    kOk = 0,      // deliverable
    kDefer = 1,   // delivery was deferred
    kBounce = 2,  // undeliverable
    kTodo = 3,    // unknown: probe in progress
};

// The name agents log and the service uses ("deliverable" / "undeliverable").
std::string_view recipient_status_name(RecipientStatus status);

struct VerifyAnswer {
    RecipientStatus status = RecipientStatus::kTodo;
    std::string reason;
};

inline constexpr std::string_view kVerifyRequestQuery = "query";
inline constexpr std::string_view kVerifyRequestUpdate = "update";

// Requests on an explicit queue directory and service name (tests; the
// config versions below read queue_directory, address_verify_service_name
// and ipc_timeout). Error: why the service could not be used.
std::expected<VerifyAnswer, std::string> verify_query(const std::string& queue_directory, std::string_view service,
                                                      std::string_view address, int timeout);
std::expected<void, std::string> verify_update(const std::string& queue_directory, std::string_view service,
                                               std::string_view address, RecipientStatus status,
                                               std::string_view reason, int timeout);

std::expected<VerifyAnswer, std::string> verify_query(const config::Config& config, std::string_view address);
std::expected<void, std::string> verify_update(const config::Config& config, std::string_view address,
                                               RecipientStatus status, std::string_view reason);

}  // namespace pf::ipc
