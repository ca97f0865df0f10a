// The delivery request codec and its blocking helpers (see
// delivery_request.h for the conversation and the trust rules).
#include "ipc/delivery_request.h"

#include <sys/time.h>

#include <charconv>
#include <fmt/core.h>

namespace pf::ipc {

namespace {

constexpr std::string_view kGreetingName = "protocol";
constexpr std::string_view kGreetingValue = "delivery";
constexpr std::size_t kMaxRecipients = 100000;

std::string time_text(const TimeStamp& t) { return fmt::format("{}.{:06d}", t.sec, t.usec); }

// "sec.usec" with 1-6 fraction digits, both parts non-negative.
std::optional<TimeStamp> parse_time(std::string_view text) {
    auto dot = text.find('.');
    std::string_view sec_text = text.substr(0, dot);
    std::string_view usec_text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (sec_text.empty() || (dot != std::string_view::npos && (usec_text.empty() || usec_text.size() > 6)))
        return std::nullopt;
    TimeStamp t;
    auto r = std::from_chars(sec_text.data(), sec_text.data() + sec_text.size(), t.sec);
    if (r.ec != std::errc{} || r.ptr != sec_text.data() + sec_text.size() || t.sec < 0) return std::nullopt;
    if (!usec_text.empty()) {
        std::int64_t frac = 0;
        auto r2 = std::from_chars(usec_text.data(), usec_text.data() + usec_text.size(), frac);
        if (r2.ec != std::errc{} || r2.ptr != usec_text.data() + usec_text.size() || frac < 0) return std::nullopt;
        for (std::size_t i = usec_text.size(); i < 6; ++i) frac *= 10;
        t.usec = frac;
    }
    return t;
}

// Fetches the required attribute name; records the first missing one.
struct Reader {
    const AttrList& attrs;
    std::string error;

    std::string text(std::string_view name) {
        auto v = attrs.get(name);
        if (!v) {
            if (error.empty()) error = fmt::format("missing attribute {}", name);
            return {};
        }
        return std::string(*v);
    }
    long long number(std::string_view name) {
        auto v = attrs.get(name);
        auto n = attrs.get_number(name);
        if (!v || !n) {
            if (error.empty()) error = (v ? "bad number in attribute " : "missing attribute ") + std::string(name);
            return 0;
        }
        return *n;
    }
    TimeStamp time(std::string_view name) {
        auto v = attrs.get(name);
        if (!v) return {};  // optional: not reached
        auto t = parse_time(*v);
        if (!t) {
            if (error.empty()) error = fmt::format("bad time in attribute {}", name);
            return {};
        }
        return *t;
    }
};

}  // namespace

TimeStamp TimeStamp::now() {
    struct timeval tv {};
    ::gettimeofday(&tv, nullptr);
    return TimeStamp{tv.tv_sec, tv.tv_usec};
}

AttrList to_attrs(const DeliveryRequest& r) {
    AttrList a;
    a.add("flags", static_cast<long long>(r.flags));
    a.add("queue_name", r.queue_name);
    a.add("queue_id", r.queue_id);
    a.add("offset", static_cast<long long>(r.data_offset));
    a.add("size", static_cast<long long>(r.data_size));
    a.add("nexthop", r.nexthop);
    a.add("encoding", r.encoding);
    a.add("smtputf8", static_cast<long long>(r.smtputf8));
    a.add("sender", r.sender);
    a.add("envelope_id", r.dsn_envid);
    a.add("ret_flags", static_cast<long long>(r.dsn_ret));
    const auto& t = r.times;
    if (t.incoming_arrival.is_set()) a.add("incoming_arrival", time_text(t.incoming_arrival));
    if (t.active_arrival.is_set()) a.add("active_arrival", time_text(t.active_arrival));
    if (t.agent_handoff.is_set()) a.add("agent_handoff", time_text(t.agent_handoff));
    if (t.conn_setup_done.is_set()) a.add("conn_setup_done", time_text(t.conn_setup_done));
    if (t.deliver_done.is_set()) a.add("deliver_done", time_text(t.deliver_done));
    a.add("reuse_count", static_cast<long long>(t.reuse_count));
    a.add("client_name", r.client_name);
    a.add("client_address", r.client_addr);
    a.add("client_port", r.client_port);
    a.add("protocol_name", r.client_proto);
    a.add("helo_name", r.client_helo);
    a.add("sasl_method", r.sasl_method);
    a.add("sasl_username", r.sasl_username);
    a.add("sasl_sender", r.sasl_sender);
    a.add("log_ident", r.log_ident);
    a.add("rewrite_context", r.rewrite_context);
    a.add("rcpt_count", static_cast<long long>(r.recipients.size()));
    for (const auto& rcpt : r.recipients) {
        a.add("rcpt_orig", rcpt.orig_addr);
        a.add("rcpt_addr", rcpt.address);
        a.add("rcpt_dsn_orcpt", rcpt.dsn_orcpt);
        a.add("rcpt_dsn_notify", static_cast<long long>(rcpt.dsn_notify));
        a.add("rcpt_offset", static_cast<long long>(rcpt.offset));
    }
    return a;
}

std::expected<DeliveryRequest, std::string> delivery_request_from_attrs(const AttrList& attrs) {
    Reader in{attrs, {}};
    DeliveryRequest r;
    long long flags = in.number("flags");
    if (flags < 0 || flags > 0xffffffffLL) return std::unexpected(std::string("bad request flags"));
    r.flags = static_cast<unsigned>(flags);
    r.queue_name = in.text("queue_name");
    r.queue_id = in.text("queue_id");
    r.data_offset = static_cast<long>(in.number("offset"));
    r.data_size = static_cast<long>(in.number("size"));
    r.nexthop = in.text("nexthop");
    r.encoding = in.text("encoding");
    r.smtputf8 = static_cast<int>(in.number("smtputf8"));
    r.sender = in.text("sender");
    r.dsn_envid = in.text("envelope_id");
    r.dsn_ret = static_cast<int>(in.number("ret_flags"));
    r.times.incoming_arrival = in.time("incoming_arrival");
    r.times.active_arrival = in.time("active_arrival");
    r.times.agent_handoff = in.time("agent_handoff");
    r.times.conn_setup_done = in.time("conn_setup_done");
    r.times.deliver_done = in.time("deliver_done");
    if (attrs.get("reuse_count")) r.times.reuse_count = static_cast<int>(in.number("reuse_count"));
    r.client_name = in.text("client_name");
    r.client_addr = in.text("client_address");
    r.client_port = in.text("client_port");
    r.client_proto = in.text("protocol_name");
    r.client_helo = in.text("helo_name");
    r.sasl_method = in.text("sasl_method");
    r.sasl_username = in.text("sasl_username");
    r.sasl_sender = in.text("sasl_sender");
    r.log_ident = in.text("log_ident");
    r.rewrite_context = in.text("rewrite_context");
    long long count = in.number("rcpt_count");
    if (!in.error.empty()) return std::unexpected(in.error);
    if (r.data_offset < 0 || r.data_size < 0) return std::unexpected(std::string("negative offset or size"));
    if (count < 1 || static_cast<unsigned long long>(count) > kMaxRecipients)
        return std::unexpected(fmt::format("bad recipient count {}", count));

    auto orig = attrs.get_all("rcpt_orig");
    auto addr = attrs.get_all("rcpt_addr");
    auto orcpt = attrs.get_all("rcpt_dsn_orcpt");
    auto notify = attrs.get_all("rcpt_dsn_notify");
    auto offset = attrs.get_all("rcpt_offset");
    auto n = static_cast<std::size_t>(count);
    if (orig.size() != n || addr.size() != n || orcpt.size() != n || notify.size() != n || offset.size() != n)
        return std::unexpected(fmt::format("recipient attributes do not match rcpt_count {}", count));
    auto to_long = [](std::string_view text, long long& out) {
        auto res = std::from_chars(text.data(), text.data() + text.size(), out);
        return res.ec == std::errc{} && res.ptr == text.data() + text.size() && !text.empty();
    };
    r.recipients.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        DeliveryRecipient rcpt;
        rcpt.orig_addr = orig[i];
        rcpt.address = addr[i];
        rcpt.dsn_orcpt = orcpt[i];
        long long v = 0;
        if (!to_long(notify[i], v) || v < 0 || v > 0xffff) return std::unexpected(std::string("bad rcpt_dsn_notify"));
        rcpt.dsn_notify = static_cast<int>(v);
        if (!to_long(offset[i], v) || v < -1) return std::unexpected(std::string("bad rcpt_offset"));
        rcpt.offset = static_cast<long>(v);
        r.recipients.push_back(std::move(rcpt));
    }
    return r;
}

AttrList to_attrs(const DeliveryReply& reply) {
    AttrList a;
    // An int sent as unsigned, as the reference's attribute writer does: -1
    // travels as 4294967295.
    a.add("status", static_cast<long long>(static_cast<unsigned>(reply.status)));
    a.add("dsn_status", reply.dsn_status);
    a.add("dsn_action", reply.dsn_action);
    a.add("reason", reply.reason);
    return a;
}

std::expected<DeliveryReply, std::string> delivery_reply_from_attrs(const AttrList& attrs) {
    auto status = attrs.get_number("status");
    if (!status) return std::unexpected(std::string("bad or missing reply status"));
    DeliveryReply r;
    r.status = *status != 0 ? 1 : 0;  // any other value (-1 too) means "deferred"
    r.dsn_status = attrs.get_or("dsn_status", "");
    r.dsn_action = attrs.get_or("dsn_action", "");
    r.reason = attrs.get_or("reason", "");
    return r;
}

AttrList delivery_greeting() {
    AttrList a;
    a.add(std::string(kGreetingName), std::string(kGreetingValue));
    return a;
}

bool is_delivery_greeting(const AttrList& attrs) { return attrs.get(kGreetingName) == kGreetingValue; }

std::expected<DeliveryRequest, std::string> receive_delivery_request(int fd, std::string& buffer, int timeout) {
    if (auto sent = send_attrs(fd, delivery_greeting(), timeout); !sent)
        return std::unexpected(fmt::format("send greeting: {}", attr_error_text(sent.error())));
    auto attrs = receive_attrs(fd, buffer, timeout);
    if (!attrs) return std::unexpected(fmt::format("receive request: {}", attr_error_text(attrs.error())));
    return delivery_request_from_attrs(*attrs);
}

std::expected<void, std::string> send_delivery_reply(int fd, const DeliveryReply& reply, int timeout) {
    if (auto sent = send_attrs(fd, to_attrs(reply), timeout); !sent)
        return std::unexpected(fmt::format("send reply: {}", attr_error_text(sent.error())));
    return {};
}

std::expected<DeliveryReply, std::string> run_delivery_request(int fd, std::string& buffer,
                                                               const DeliveryRequest& request, int timeout) {
    auto greeting = receive_attrs(fd, buffer, timeout);
    if (!greeting) return std::unexpected(fmt::format("receive greeting: {}", attr_error_text(greeting.error())));
    if (!is_delivery_greeting(*greeting)) return std::unexpected(std::string("unexpected greeting from agent"));
    if (auto sent = send_attrs(fd, to_attrs(request), timeout); !sent)
        return std::unexpected(fmt::format("send request: {}", attr_error_text(sent.error())));
    auto reply = receive_attrs(fd, buffer, timeout);
    if (!reply) return std::unexpected(fmt::format("receive reply: {}", attr_error_text(reply.error())));
    return delivery_reply_from_attrs(*reply);
}

}  // namespace pf::ipc
