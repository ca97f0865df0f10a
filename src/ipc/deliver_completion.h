// What a delivery agent does when one recipient's outcome is known, as the
// reference's agents do it (its sent / bounce_append / defer_append /
// trace_append and deliver_completed):
//  - sent: log "status=sent" (after a trace record when the request says
//    so or the recipient asked NOTIFY=SUCCESS); the caller then marks the
//    recipient done;
//  - bounce: append to the bounce log through private/$bounce_service_name
//    and log "status=bounced" (soft_bounce: to the defer log, logged as
//    "SOFTBOUNCE", and not finished); if the bounce service fails, defer
//    with "4.3.0 bounce or trace service failure";
//  - defer: append to the defer log through private/$defer_service_name
//    (a warning if that fails) and log "status=deferred"; then tell the
//    fast-flush service (flush_client.h) that the message waits for the
//    recipient's domain (a warning if that fails for an eligible domain);
//    never finished;
//  - address probes by the MTA (kDeliveryMtaVerify) go to the verify
//    service as an update request (ipc/verify_client.h: for the original
//    recipient, and also for the final address when it differs), and are
//    logged "status=deliverable" / "status=undeliverable" (a failed result
//    with address_verify_negative_cache = no: not sent, logged
//    "undeliverable-but-not-cached"); a verify service failure leaves the
//    recipient in the queue with "<id>: verify service failure";
//  - probes by a user (kDeliveryUserVerify, sendmail -bv) are recorded
//    through the trace service with the same actions.
// Each returns 0 when the recipient is finished (mark it done), -1 when
// it stays in the queue. Status codes of the wrong class are replaced by
// 2.0.0 / 5.0.0 / 4.0.0 with the reference's warning.
//
// Trust: request and DSN come from our own code; texts are logged as is.
#pragma once

#include "ipc/deliver_dsn.h"
#include "ipc/deliver_log.h"
#include "ipc/delivery_request.h"

#include <functional>
#include <string>
#include <string_view>

namespace pf::config { class Config; }

namespace pf::ipc {

struct DeliveryAgentSettings {
    std::string queue_directory;
    std::string bounce_service = "bounce";
    std::string defer_service = "defer";
    std::string trace_service = "trace";
    bool soft_bounce = false;
    bool verify_negative_cache = true;            // address_verify_negative_cache
    std::string verify_service = "verify";        // address_verify_service_name
    int ipc_timeout = 3600;
    DeliveryLogSettings log;
    // The configuration the fast-flush client reads (fast_flush_domains);
    // none: deferrals are not reported to the flush service.
    const config::Config* config = nullptr;

    static DeliveryAgentSettings from_config(const config::Config& config);
};

// The trace bits of the request flags that travel with an append.
unsigned delivery_trace_flags(unsigned request_flags);

// The "relay=" word of agents that have no remote peer.
inline constexpr std::string_view kNoRelay = "none";

class DeliveryRecorder {
public:
    DeliveryRecorder(const DeliveryAgentSettings& settings, const DeliveryRequest& request)
        : settings_(settings), request_(request) {}

    int sent(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn);
    int bounce(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn);
    int defer(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn);
    // bounce for a 5 status, defer otherwise (the reference's pattern).
    int bounce_or_defer(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn);

    // Tests: replace the log sink (default: msg_info) and the service call
    // (default: bounce_client's bounce_append).
    using LogSink = std::function<void(const std::string&)>;
    using AppendCall = std::function<bool(std::string_view service, unsigned flags, const DeliveryRecipient& rcpt,
                                          const Dsn& dsn)>;
    void set_log_sink(LogSink sink) { log_ = std::move(sink); }
    void set_append_call(AppendCall call) { append_ = std::move(call); }
    // Tests: replace the fast-flush "add" call made for each deferred
    // recipient whose address has a domain (default: ipc::flush_add with
    // settings.config); returns a FlushStatus value.
    using FlushAddCall = std::function<int(std::string_view site, std::string_view queue_id)>;
    void set_flush_add_call(FlushAddCall call) { flush_add_ = std::move(call); }
    // Tests: replace the verify service update (default:
    // ipc::verify_update on settings.queue_directory); returns success.
    using VerifyCall = std::function<bool(std::string_view address, int addr_status, std::string_view reason)>;
    void set_verify_call(VerifyCall call) { verify_ = std::move(call); }
    // Tests: a fixed "now" for the delay fields.
    void set_now(TimeStamp now) { now_ = now; }

private:
    int bounce_intern(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn);
    int defer_intern(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn);
    int trace(const DeliveryRecipient& rcpt, std::string_view relay, const Dsn& dsn);
    int verify_append(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn, int addr_status);
    bool verify_update_one(std::string_view address, int addr_status, std::string_view reason);
    bool append(std::string_view service, const DeliveryRecipient& rcpt, const Dsn& dsn);
    void flush_add_recipient(const DeliveryRecipient& rcpt);
    void log(const DeliveryRecipient& rcpt, std::string_view relay, const Dsn& dsn, std::string_view status);

    const DeliveryAgentSettings& settings_;
    const DeliveryRequest& request_;
    LogSink log_;
    AppendCall append_;
    FlushAddCall flush_add_;
    VerifyCall verify_;
    TimeStamp now_;
};

}  // namespace pf::ipc
