// The bounce/defer/trace "append" request (bounce_client.h).
#include "ipc/bounce_client.h"

#include "ipc/service_client.h"

#include <fmt/core.h>

namespace pf::ipc {

namespace {

// The recipient and its delivery status, as both requests carry them.
void add_recipient_dsn(AttrList& a, const DeliveryRecipient& rcpt, const Dsn& dsn) {
    a.add("rcpt_orig", rcpt.orig_addr);
    a.add("rcpt_addr", rcpt.address);
    a.add("rcpt_offset", static_cast<long long>(rcpt.offset));
    a.add("rcpt_dsn_orcpt", rcpt.dsn_orcpt);
    a.add("rcpt_dsn_notify", static_cast<long long>(rcpt.dsn_notify));
    a.add("dsn_status", dsn.status);
    a.add("dsn_action", dsn.action);
    a.add("reason", dsn.reason);
    a.add("dsn_dtype", dsn.dtype);
    a.add("dsn_dtext", dsn.dtext);
    a.add("dsn_mtype", dsn.mtype);
    a.add("dsn_mname", dsn.mname);
}

// The inverse; false when a required attribute is missing or bad.
bool read_recipient_dsn(const AttrList& a, DeliveryRecipient& rcpt, Dsn& dsn) {
    auto offset = a.get_number("rcpt_offset");
    auto notify = a.get_number("rcpt_dsn_notify");
    auto addr = a.get("rcpt_addr");
    auto status = a.get("dsn_status");
    if (!offset || *offset < -1 || !notify || *notify < 0 || !addr || !status) return false;
    rcpt.address = std::string(*addr);
    rcpt.orig_addr = a.get_or("rcpt_orig", "");
    rcpt.offset = static_cast<long>(*offset);
    rcpt.dsn_orcpt = a.get_or("rcpt_dsn_orcpt", "");
    rcpt.dsn_notify = static_cast<int>(*notify);
    dsn.status = std::string(*status);
    dsn.action = a.get_or("dsn_action", "");
    dsn.reason = a.get_or("reason", "");
    dsn.dtype = a.get_or("dsn_dtype", "");
    dsn.dtext = a.get_or("dsn_dtext", "");
    dsn.mtype = a.get_or("dsn_mtype", "");
    dsn.mname = a.get_or("dsn_mname", "");
    return true;
}

// One request to private/<service> and its "status" number.
std::expected<long long, std::string> call_status(const std::string& queue_directory, std::string_view service,
                                                  const AttrList& request, int timeout) {
    auto reply = request_reply(queue_directory, "private", service, request, timeout);
    if (!reply) return std::unexpected(reply.error());
    auto status = reply->get_number("status");
    if (!status) return std::unexpected(fmt::format("malformed reply from {}", service));
    return *status;
}

}  // namespace

AttrList to_attrs(const BounceAppendRequest& r) {
    AttrList a;
    a.add("request", std::string("append"));
    a.add("flags", static_cast<long long>(r.flags));
    a.add("queue_id", r.queue_id);
    add_recipient_dsn(a, r.recipient, r.dsn);
    return a;
}

std::expected<BounceAppendRequest, std::string> bounce_append_from_attrs(const AttrList& a) {
    if (a.get("request") != std::optional<std::string_view>("append"))
        return std::unexpected(std::string("not an append request"));
    BounceAppendRequest r;
    auto flags = a.get_number("flags");
    auto id = a.get("queue_id");
    if (!flags || *flags < 0 || !id || !read_recipient_dsn(a, r.recipient, r.dsn))
        return std::unexpected(std::string("missing or bad attribute in append request"));
    r.flags = static_cast<unsigned>(*flags);
    r.queue_id = std::string(*id);
    return r;
}

std::expected<void, std::string> bounce_append(const std::string& queue_directory, std::string_view service,
                                               const BounceAppendRequest& request, int timeout) {
    auto status = call_status(queue_directory, service, to_attrs(request), timeout);
    if (!status) return std::unexpected(status.error());
    if (*status != 0) return std::unexpected(fmt::format("{} service refused the request", service));
    return {};
}

AttrList to_attrs(const BounceNoticeRequest& r) {
    AttrList a;
    a.add("request", r.request);
    a.add("flags", static_cast<long long>(r.flags));
    a.add("queue_name", r.queue_name);
    a.add("queue_id", r.queue_id);
    a.add("encoding", r.encoding);
    a.add("smtputf8", static_cast<long long>(r.smtputf8));
    a.add("sender", r.sender);
    a.add("dsn_envid", r.dsn_envid);
    a.add("dsn_ret", static_cast<long long>(r.dsn_ret));
    if (r.request == "verp" || !r.verp_delims.empty()) a.add("verp_delims", r.verp_delims);
    if (r.request == "one") add_recipient_dsn(a, r.recipient, r.dsn);
    return a;
}

std::expected<BounceNoticeRequest, std::string> bounce_notice_from_attrs(const AttrList& a) {
    BounceNoticeRequest r;
    r.request = a.get_or("request", "");
    if (r.request != "flush" && r.request != "warn" && r.request != "trace" && r.request != "verp" &&
        r.request != "one")
        return std::unexpected(fmt::format("unknown request: \"{}\"", r.request));
    auto flags = a.get_number("flags");
    auto smtputf8 = a.get_number("smtputf8");
    auto dsn_ret = a.get_number("dsn_ret");
    auto queue_name = a.get("queue_name");
    auto queue_id = a.get("queue_id");
    auto encoding = a.get("encoding");
    auto sender = a.get("sender");
    auto envid = a.get("dsn_envid");
    if (!flags || !smtputf8 || !dsn_ret || !queue_name || !queue_id || !encoding || !sender || !envid)
        return std::unexpected(std::string("malformed request"));
    r.flags = static_cast<unsigned>(*flags);
    r.smtputf8 = static_cast<int>(*smtputf8);
    r.dsn_ret = static_cast<int>(*dsn_ret);
    r.queue_name = std::string(*queue_name);
    r.queue_id = std::string(*queue_id);
    r.encoding = std::string(*encoding);
    r.sender = std::string(*sender);
    r.dsn_envid = std::string(*envid);
    r.verp_delims = a.get_or("verp_delims", "");
    if (r.request == "verp" && !a.get("verp_delims")) return std::unexpected(std::string("malformed request"));
    if (r.request == "one" && !read_recipient_dsn(a, r.recipient, r.dsn))
        return std::unexpected(std::string("malformed request"));
    return r;
}

std::expected<int, std::string> bounce_notice(const std::string& queue_directory, std::string_view service,
                                              const BounceNoticeRequest& request, int timeout) {
    auto status = call_status(queue_directory, service, to_attrs(request), timeout);
    if (!status) return std::unexpected(status.error());
    return static_cast<int>(*status);
}

}  // namespace pf::ipc
