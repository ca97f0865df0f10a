// Client side of the verify service (verify_client.h).
#include "ipc/verify_client.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "ipc/attr.h"
#include "ipc/service_client.h"

#include <fmt/core.h>

namespace pf::ipc {

std::string_view recipient_status_name(RecipientStatus status) {
    switch (status) {
    case RecipientStatus::kOk: return "deliverable";
    case RecipientStatus::kDefer:
    case RecipientStatus::kBounce: return "undeliverable";
    case RecipientStatus::kTodo: break;
    }
    return "unknown";
}

namespace {

int config_timeout(const config::Config& config) {
    return static_cast<int>(config::parse_time_value(config.get("ipc_timeout"), 's').value_or(3600));
}

std::expected<AttrList, std::string> call(const std::string& queue_directory, std::string_view service,
                                          const AttrList& request, int timeout) {
    auto reply = request_reply(queue_directory, "private", service, request, timeout);
    if (!reply) return std::unexpected(reply.error());
    auto status = reply->get_number("status");
    if (!status) return std::unexpected(fmt::format("malformed reply from {} service", service));
    if (*status != static_cast<long long>(VerifyStatus::kOk))
        return std::unexpected(fmt::format("{} service status {}", service, *status));
    return reply;
}

}  // namespace

std::expected<VerifyAnswer, std::string> verify_query(const std::string& queue_directory, std::string_view service,
                                                      std::string_view address, int timeout) {
    AttrList request{{"request", std::string(kVerifyRequestQuery)}, {"address", std::string(address)}};
    auto reply = call(queue_directory, service, request, timeout);
    if (!reply) return std::unexpected(reply.error());
    auto addr_status = reply->get_number("addr_status");
    auto reason = reply->get("reason");
    if (!addr_status || *addr_status < 0 || *addr_status > static_cast<long long>(RecipientStatus::kTodo) || !reason)
        return std::unexpected(fmt::format("malformed reply from {} service", service));
    return VerifyAnswer{static_cast<RecipientStatus>(*addr_status), std::string(*reason)};
}

std::expected<void, std::string> verify_update(const std::string& queue_directory, std::string_view service,
                                               std::string_view address, RecipientStatus status,
                                               std::string_view reason, int timeout) {
    AttrList request{{"request", std::string(kVerifyRequestUpdate)}, {"address", std::string(address)}};
    request.add("addr_status", static_cast<long long>(status)).add("reason", std::string(reason));
    auto reply = call(queue_directory, service, request, timeout);
    if (!reply) return std::unexpected(reply.error());
    return {};
}

std::expected<VerifyAnswer, std::string> verify_query(const config::Config& config, std::string_view address) {
    return verify_query(config.get("queue_directory"), config.get("address_verify_service_name"), address,
                        config_timeout(config));
}

std::expected<void, std::string> verify_update(const config::Config& config, std::string_view address,
                                               RecipientStatus status, std::string_view reason) {
    return verify_update(config.get("queue_directory"), config.get("address_verify_service_name"), address, status,
                         reason, config_timeout(config));
}

}  // namespace pf::ipc
