// Probe messages of verify(8) (verify_probe.h).
#include "daemon/verify/verify_probe.h"

#include "config/config.h"
#include "ipc/cleanup_flags.h"
#include "ipc/cleanup_client.h"
#include "ipc/delivery_request.h"
#include "ipc/mail_server.h"
#include "ipc/services.h"
#include "mail/mail_date.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"

#include <sys/time.h>

#include <fmt/core.h>

#include <map>
#include <stdexcept>

namespace pf::verify {

namespace {

// Probes written up to E whose verdict from cleanup has not come yet,
// by connection descriptor.
std::map<int, ipc::CleanupClient>& pending_probes() {
    static std::map<int, ipc::CleanupClient> pending;
    return pending;
}

std::string base31(unsigned long v) {
    // Digits and consonants only, as the reference: no words by accident.
    static constexpr char kDigits[] = "0123456789BCDFGHJKLMNPQRSTVWXYZ";
    std::string out;
    do {
        out.insert(out.begin(), kDigits[v % 31]);
        v /= 31;
    } while (v != 0);
    return out;
}

}  // namespace

std::string probe_sender(std::string_view configured, long ttl, std::time_t now) {
    if (configured.empty() || configured == "<>") return "";
    if (configured.front() == '@')
        throw std::runtime_error(
            fmt::format("parameter address_verify_sender: value \"{}\" must not start with '@'", configured));
    auto at = configured.find('@');
    if (at != std::string_view::npos && at + 1 == configured.size())
        throw std::runtime_error(
            fmt::format("parameter address_verify_sender: value \"{}\" must not end with '@'", configured));
    if (ttl <= 0) return std::string(configured);
    std::string_view local = at == std::string_view::npos ? configured : configured.substr(0, at);
    std::string_view domain = at == std::string_view::npos ? std::string_view() : configured.substr(at);
    return fmt::format("{}{}{}", local, base31(static_cast<unsigned long>(now) / static_cast<unsigned long>(ttl)),
                       domain);
}

unsigned probe_cleanup_flags(const config::Config& config) {
    unsigned flags = ipc::kCleanupMapOk;
    if (ipc::mail_class_listed(config.get("internal_mail_filter_classes"), "verify"))
        flags |= ipc::kCleanupFilter | ipc::kCleanupMilter;
    if (ipc::mail_class_listed(config.get("smtputf8_autodetect_classes"), "verify")) flags |= ipc::kCleanupAutoUtf8;
    return flags;
}

bool send_probe(const config::Config& config, std::string_view queue_directory, std::string_view sender,
                std::string_view address) {
    std::string service = config.get("cleanup_service_name");
    auto client = ipc::CleanupClient::open(std::string(queue_directory), service, probe_cleanup_flags(config));
    if (!client) {
        util::msg_warn("connect to public/{}: {}", service, client.error());
        return false;
    }
    struct timeval now;
    ::gettimeofday(&now, nullptr);
    const std::string date = mail::mail_date(now.tv_sec);
    auto put = [&](char type, std::string_view data) { return client->write(type, data).has_value(); };
    bool ok = put(queue::rec::kTime, fmt::format("{} {}", static_cast<long>(now.tv_sec), static_cast<long>(now.tv_usec))) &&
              put(queue::rec::kAttr, "log_origin=local") &&
              put(queue::rec::kAttr, fmt::format("trace_flags={}", static_cast<unsigned>(ipc::kDeliveryMtaVerify))) &&
              put(queue::rec::kFrom, sender) && put(queue::rec::kRcpt, address) && put(queue::rec::kMessage, "") &&
              put(queue::rec::kNorm, fmt::format("Received: by {} ({})", config.get("myhostname"),
                                                 config.get("mail_name"))) &&
              put(queue::rec::kNorm, fmt::format("\tid {}; {}", client->queue_id(), date)) &&
              put(queue::rec::kNorm, fmt::format("Date: {}", date)) && put(queue::rec::kExtracted, "") &&
              put(queue::rec::kEnd, "");
    if (!ok || !client->flush()) {
        util::msg_warn("probe for {}: cannot write to public/{}", address, service);
        return false;
    }
    // cleanup's verdict is read when it comes, from the event loop: cleanup
    // may itself call this service (an address that aliases to several
    // recipients is answered there) before it replies, as with the
    // reference, whose probes are posted asynchronously.
    const int fd = client->fd();
    pending_probes().insert_or_assign(fd, std::move(*client));
    ipc::server_watch_fd(fd, [fd, address = std::string(address), service] {
        ipc::server_unwatch_fd(fd);
        auto node = pending_probes().extract(fd);
        if (node.empty()) return;
        auto reply = node.mapped().finish();
        if (!reply)
            util::msg_warn("probe for {}: public/{}: {}", address, service, reply.error());
        else if (reply->status != 0)
            util::msg_warn("probe for {}: {}", address, ipc::cleanup_strerror(reply->status));
    });
    return true;
}

}  // namespace pf::verify
