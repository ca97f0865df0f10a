// The bounce/defer/trace "append" request (bounce_client.h).
#include "ipc/bounce_client.h"

#include "ipc/service_client.h"

#include <fmt/core.h>

namespace pf::ipc {

AttrList to_attrs(const BounceAppendRequest& r) {
    AttrList a;
    a.add("request", std::string("append"));
    a.add("flags", static_cast<long long>(r.flags));
    a.add("queue_id", r.queue_id);
    a.add("rcpt_orig", r.recipient.orig_addr);
    a.add("rcpt_addr", r.recipient.address);
    a.add("rcpt_offset", static_cast<long long>(r.recipient.offset));
    a.add("rcpt_dsn_orcpt", r.recipient.dsn_orcpt);
    a.add("rcpt_dsn_notify", static_cast<long long>(r.recipient.dsn_notify));
    a.add("dsn_status", r.dsn.status);
    a.add("dsn_action", r.dsn.action);
    a.add("reason", r.dsn.reason);
    a.add("dsn_dtype", r.dsn.dtype);
    a.add("dsn_dtext", r.dsn.dtext);
    a.add("dsn_mtype", r.dsn.mtype);
    a.add("dsn_mname", r.dsn.mname);
    return a;
}

std::expected<BounceAppendRequest, std::string> bounce_append_from_attrs(const AttrList& a) {
    if (a.get("request") != std::optional<std::string_view>("append"))
        return std::unexpected(std::string("not an append request"));
    BounceAppendRequest r;
    auto flags = a.get_number("flags");
    auto offset = a.get_number("rcpt_offset");
    auto notify = a.get_number("rcpt_dsn_notify");
    auto id = a.get("queue_id");
    auto addr = a.get("rcpt_addr");
    auto status = a.get("dsn_status");
    if (!flags || *flags < 0 || !offset || *offset < -1 || !notify || *notify < 0 || !id || !addr || !status)
        return std::unexpected(std::string("missing or bad attribute in append request"));
    r.flags = static_cast<unsigned>(*flags);
    r.queue_id = std::string(*id);
    r.recipient.address = std::string(*addr);
    r.recipient.orig_addr = a.get_or("rcpt_orig", "");
    r.recipient.offset = static_cast<long>(*offset);
    r.recipient.dsn_orcpt = a.get_or("rcpt_dsn_orcpt", "");
    r.recipient.dsn_notify = static_cast<int>(*notify);
    r.dsn.status = std::string(*status);
    r.dsn.action = a.get_or("dsn_action", "");
    r.dsn.reason = a.get_or("reason", "");
    r.dsn.dtype = a.get_or("dsn_dtype", "");
    r.dsn.dtext = a.get_or("dsn_dtext", "");
    r.dsn.mtype = a.get_or("dsn_mtype", "");
    r.dsn.mname = a.get_or("dsn_mname", "");
    return r;
}

std::expected<void, std::string> bounce_append(const std::string& queue_directory, std::string_view service,
                                               const BounceAppendRequest& request, int timeout) {
    auto conn = connect_service(queue_directory, "private", service, timeout);
    if (!conn) return std::unexpected(conn.error());
    if (auto sent = conn->send(to_attrs(request), timeout); !sent)
        return std::unexpected(fmt::format("send to {}: {}", service, attr_error_text(sent.error())));
    auto reply = conn->receive(timeout);
    if (!reply) return std::unexpected(fmt::format("receive from {}: {}", service, attr_error_text(reply.error())));
    auto status = reply->get_number("status");
    if (!status || *status != 0) return std::unexpected(fmt::format("{} service refused the request", service));
    return {};
}

}  // namespace pf::ipc
