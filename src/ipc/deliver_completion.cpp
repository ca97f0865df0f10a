// Per-recipient completion for delivery agents (deliver_completion.h).
#include "ipc/deliver_completion.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "ipc/bounce_client.h"
#include "ipc/flush_client.h"
#include "ipc/verify_client.h"
#include "util/msg.h"

#include <fmt/core.h>

#include <strings.h>

namespace pf::ipc {

namespace {

constexpr int kNotifySuccess = 1 << 1;  // DSN NOTIFY=SUCCESS
constexpr int kNotifyDelay = 1 << 3;    // DSN NOTIFY=DELAY

bool status_class_ok(const std::string& status, char cls) {
    return !status.empty() && status[0] == cls && dsn_valid(status) == status.size();
}

}  // namespace

DeliveryAgentSettings DeliveryAgentSettings::from_config(const config::Config& config) {
    DeliveryAgentSettings s;
    s.queue_directory = config.get("queue_directory");
    s.bounce_service = config.get("bounce_service_name");
    s.defer_service = config.get("defer_service_name");
    s.trace_service = config.get("trace_service_name");
    s.soft_bounce = config::parse_bool_value(config.get("soft_bounce")).value_or(false);
    s.verify_negative_cache = config::parse_bool_value(config.get("address_verify_negative_cache")).value_or(true);
    s.verify_service = config.get("address_verify_service_name");
    s.ipc_timeout = config::parse_time_value(config.get("ipc_timeout"), 's').value_or(3600);
    auto limit = config::parse_int_value(config.get("delay_logging_resolution_limit"), 6);
    s.log.resolution_limit = static_cast<int>(limit.value_or(2));
    std::string form = config.get("info_log_address_format");
    s.log.external_addresses = form != "internal";
    s.config = &config;
    // Agents read their settings before a chroot: open the fast-flush
    // domain tables while the files are reachable.
    flush_init(config);
    return s;
}

unsigned delivery_trace_flags(unsigned flags) {
    return flags & (kDeliveryMtaVerify | kDeliveryUserVerify | kDeliveryRecord | kDeliveryRecordDelayedSent);
}

void DeliveryRecorder::log(const DeliveryRecipient& rcpt, std::string_view relay, const Dsn& dsn,
                           std::string_view status) {
    std::string line = delivery_log_line(request_.queue_id,
                                         request_.times, rcpt, relay, dsn, status, settings_.log,
                                         now_.is_set() ? now_ : TimeStamp::now());
    if (log_)
        log_(line);
    else
        util::msg_info("{}", line);
}

bool DeliveryRecorder::append(std::string_view service, const DeliveryRecipient& rcpt, const Dsn& dsn) {
    unsigned flags = delivery_trace_flags(request_.flags);
    if (append_) return append_(service, flags, rcpt, dsn);
    BounceAppendRequest req;
    req.flags = flags;
    req.queue_id = request_.queue_id;
    req.recipient = rcpt;
    req.dsn = dsn;
    auto done = bounce_append(settings_.queue_directory, service, req, settings_.ipc_timeout);
    if (!done && util::msg_verbose) util::msg_info("{} append: {}", service, done.error());
    return done.has_value();
}

int DeliveryRecorder::trace(const DeliveryRecipient& rcpt, std::string_view relay, const Dsn& dsn) {
    Dsn traced = dsn;
    if (relay != kNoRelay) traced.reason = fmt::format("delivery via {}: {}", relay, dsn.reason);
    if (!append(settings_.trace_service, rcpt, traced)) {
        util::msg_warn("{}: {} service failure", request_.queue_id, settings_.trace_service);
        return -1;
    }
    if (request_.flags & kDeliveryUserVerify) log(rcpt, relay, dsn, dsn.action);
    return 0;
}

bool DeliveryRecorder::verify_update_one(std::string_view address, int addr_status, std::string_view reason) {
    if (verify_) return verify_(address, addr_status, reason);
    auto done = verify_update(settings_.queue_directory, settings_.verify_service, address,
                              static_cast<RecipientStatus>(addr_status), reason, settings_.ipc_timeout);
    if (!done && util::msg_verbose) util::msg_info("verify update: {}", done.error());
    return done.has_value();
}

// The reference's verify_append: the probe result goes to the verify
// service (twice when the address was rewritten), then is logged.
int DeliveryRecorder::verify_append(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn, int addr_status) {
    bool ok = true;
    if (settings_.verify_negative_cache || addr_status == static_cast<int>(RecipientStatus::kOk)) {
        if (!rcpt.orig_addr.empty()) ok = verify_update_one(rcpt.orig_addr, addr_status, dsn.reason);
        if (ok && ::strcasecmp(rcpt.address.c_str(), rcpt.orig_addr.c_str()) != 0)
            ok = verify_update_one(rcpt.address, addr_status, dsn.reason);
    } else {
        dsn.action = "undeliverable-but-not-cached";
    }
    if (!ok) {
        util::msg_warn("{}: {} service failure", request_.queue_id, settings_.verify_service);
        return -1;
    }
    log(rcpt, relay, dsn, dsn.action);
    return 0;
}

int DeliveryRecorder::sent(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn) {
    if (!status_class_ok(dsn.status, '2')) {
        util::msg_warn("sent: ignoring dsn code \"{}\"", dsn.status);
        dsn.status = "2.0.0";
    }
    if (request_.flags & kDeliveryMtaVerify) {
        dsn.action = "deliverable";
        return verify_append(rcpt, relay, std::move(dsn), static_cast<int>(RecipientStatus::kOk));
    }
    if (request_.flags & kDeliveryUserVerify) {
        dsn.action = "deliverable";
        return trace(rcpt, relay, dsn);
    }
    if (dsn.action.empty()) dsn.action = "delivered";
    bool record_all = request_.flags & kDeliveryRecord;
    bool record_delayed = (request_.flags & kDeliveryRecordDelayedSent) &&
                          (rcpt.dsn_notify == 0 || (rcpt.dsn_notify & kNotifyDelay));
    bool ok = true;
    if (record_all || record_delayed) ok = trace(rcpt, relay, dsn) == 0;
    if (ok && (rcpt.dsn_notify & kNotifySuccess)) ok = trace(rcpt, relay, dsn) == 0;
    if (ok) {
        log(rcpt, relay, dsn, "sent");
        return 0;
    }
    dsn.reason = fmt::format("{}: {} service failed", request_.queue_id, settings_.trace_service);
    dsn.status = "4.3.0";
    return defer(rcpt, relay, std::move(dsn));
}

int DeliveryRecorder::bounce(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn) {
    if (!status_class_ok(dsn.status, '5')) {
        util::msg_warn("bounce_append: ignoring dsn code \"{}\"", dsn.status);
        dsn.status = "5.0.0";
    }
    return bounce_intern(rcpt, relay, std::move(dsn));
}

int DeliveryRecorder::bounce_intern(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn) {
    if (request_.flags & kDeliveryMtaVerify) {
        dsn.action = "undeliverable";
        return verify_append(rcpt, relay, std::move(dsn), static_cast<int>(RecipientStatus::kBounce));
    }
    if (request_.flags & kDeliveryUserVerify) {
        dsn.action = "undeliverable";
        return trace(rcpt, relay, dsn);
    }
    const bool soft = settings_.soft_bounce;
    if (soft) {
        dsn.status[0] = '4';
        dsn.action = "delayed";
    } else {
        dsn.action = "failed";
    }
    if (append(soft ? settings_.defer_service : settings_.bounce_service, rcpt, dsn) &&
        ((request_.flags & kDeliveryRecord) == 0 || trace(rcpt, relay, dsn) == 0)) {
        log(rcpt, relay, dsn, soft ? "SOFTBOUNCE" : "bounced");
        return soft ? -1 : 0;
    }
    dsn.status = "4.3.0";
    dsn.reason = fmt::format("{} or {} service failure", settings_.bounce_service, settings_.trace_service);
    return defer_intern(rcpt, relay, std::move(dsn));
}

int DeliveryRecorder::defer(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn) {
    if (!status_class_ok(dsn.status, '4')) {
        util::msg_warn("defer_append: ignoring dsn code \"{}\"", dsn.status);
        dsn.status = "4.0.0";
    }
    return defer_intern(rcpt, relay, std::move(dsn));
}

int DeliveryRecorder::defer_intern(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn) {
    if (request_.flags & kDeliveryMtaVerify) {
        dsn.action = "undeliverable";
        return verify_append(rcpt, relay, std::move(dsn), static_cast<int>(RecipientStatus::kDefer));
    }
    if (request_.flags & kDeliveryUserVerify) {
        dsn.action = "undeliverable";
        return trace(rcpt, relay, dsn);
    }
    dsn.action = "delayed";
    if (!append(settings_.defer_service, rcpt, dsn))
        util::msg_warn("{}: {} service failure", request_.queue_id, settings_.defer_service);
    log(rcpt, relay, dsn, "deferred");
    if (request_.flags & kDeliveryRecord)
        if (trace(rcpt, relay, dsn) != 0)
            util::msg_warn("{}: {} service failure", request_.queue_id, settings_.trace_service);
    flush_add_recipient(rcpt);
    return -1;
}

void DeliveryRecorder::flush_add_recipient(const DeliveryRecipient& rcpt) {
    auto at = rcpt.address.rfind('@');
    if (at == std::string::npos || at + 1 == rcpt.address.size()) return;
    std::string_view site = std::string_view(rcpt.address).substr(at + 1);
    int status;
    if (flush_add_)
        status = flush_add_(site, request_.queue_id);
    else if (settings_.config)
        status = static_cast<int>(flush_add(*settings_.config, site, request_.queue_id));
    else
        return;
    if (status != static_cast<int>(FlushStatus::kOk) && status != static_cast<int>(FlushStatus::kUnknown))
        util::msg_warn("{}: {} service failure", request_.queue_id,
                       settings_.config ? settings_.config->get("flush_service_name") : std::string("flush"));
}

int DeliveryRecorder::bounce_or_defer(const DeliveryRecipient& rcpt, std::string_view relay, Dsn dsn) {
    if (!dsn.status.empty() && dsn.status[0] == '4') return defer(rcpt, relay, std::move(dsn));
    return bounce(rcpt, relay, std::move(dsn));
}

}  // namespace pf::ipc
