// Client side of anvil(8); see anvil_client.h.
#include "ipc/anvil_client.h"

#include "util/msg.h"

#include <poll.h>
#include <unistd.h>

#include <fmt/core.h>

namespace pf::ipc {

std::string anvil_ident(std::string_view service, std::string_view addr) {
    std::string out;
    out.reserve(service.size() + 1 + addr.size());
    auto put = [&](std::string_view part) {
        for (char ch : part) {
            unsigned char c = static_cast<unsigned char>(ch);
            out.push_back(c < 32 || c >= 127 ? '?' : ch);
        }
    };
    put(service);
    out.push_back(':');
    put(addr);
    return out;
}

AnvilClient::AnvilClient(std::string queue_directory, int timeout, std::string service)
    : sleep_for([](int s) { ::sleep(static_cast<unsigned>(s)); }),
      queue_directory_(std::move(queue_directory)), service_(std::move(service)), timeout_(timeout) {}

std::expected<AttrList, std::string> AnvilClient::call(std::string_view request, std::string_view ident) {
    AttrList req{{"request", std::string(request)}, {"ident", std::string(ident)}};
    const std::string endpoint = "private/" + service_;
    for (int attempt = 1;; ++attempt) {
        std::string why;
        if (conn_.is_open()) {
            // A connection that is readable before we ask was closed by
            // the server (it went idle or was restarted).
            pollfd p{conn_.fd(), POLLIN, 0};
            if (::poll(&p, 1, 0) != 0) conn_ = ServiceConnection();
        }
        if (!conn_.is_open()) {
            auto c = connect_service(queue_directory_, "private", service_, timeout_);
            if (c) {
                conn_ = std::move(*c);
            } else {
                why = c.error();
                util::msg_warn("connect to {}: {}", endpoint, why);
            }
        }
        if (conn_.is_open()) {
            auto sent = conn_.send(req, timeout_);
            if (sent) {
                auto reply = conn_.receive(timeout_);
                if (reply) return std::move(*reply);
                why = std::string(attr_error_text(reply.error()));
            } else {
                why = std::string(attr_error_text(sent.error()));
            }
            conn_ = ServiceConnection();
        }
        if (attempt >= 2) {
            util::msg_warn("problem talking to server {}: {}", endpoint, why);
            return std::unexpected(why);
        }
        sleep_for(1);
    }
}

std::expected<int, std::string> AnvilClient::rate_call(std::string_view request, std::string_view ident) {
    auto reply = call(request, ident);
    if (!reply) return std::unexpected(reply.error());
    auto status = reply->get_number("status");
    auto rate = reply->get_number("rate");
    if (!status || *status != 0 || !rate) return std::unexpected(fmt::format("{} request failed", request));
    return static_cast<int>(*rate);
}

std::expected<AnvilCounts, std::string> AnvilClient::connect(std::string_view ident) {
    auto reply = call("connect", ident);
    if (!reply) return std::unexpected(reply.error());
    auto status = reply->get_number("status");
    auto count = reply->get_number("count");
    auto rate = reply->get_number("rate");
    if (!status || *status != 0 || !count || !rate) return std::unexpected(std::string("connect request failed"));
    AnvilCounts c;
    c.count = static_cast<int>(*count);
    c.rate = static_cast<int>(*rate);
    return c;
}

std::expected<void, std::string> AnvilClient::disconnect(std::string_view ident) {
    auto reply = call("disconnect", ident);
    if (!reply) return std::unexpected(reply.error());
    auto status = reply->get_number("status");
    if (!status || *status != 0) return std::unexpected(std::string("disconnect request failed"));
    return {};
}

std::expected<int, std::string> AnvilClient::message(std::string_view ident) { return rate_call("message", ident); }
std::expected<int, std::string> AnvilClient::recipient(std::string_view ident) { return rate_call("recipient", ident); }
std::expected<int, std::string> AnvilClient::newtls(std::string_view ident) { return rate_call("newtls", ident); }
std::expected<int, std::string> AnvilClient::newtls_status(std::string_view ident) {
    return rate_call("newtls_status", ident);
}
std::expected<int, std::string> AnvilClient::auth(std::string_view ident) { return rate_call("auth", ident); }

std::expected<AnvilCounts, std::string> AnvilClient::lookup(std::string_view ident) {
    auto reply = call("lookup", ident);
    if (!reply) return std::unexpected(reply.error());
    auto status = reply->get_number("status");
    if (!status || *status != 0) return std::unexpected(std::string("lookup request failed"));
    AnvilCounts c;
    auto field = [&](std::string_view name, int& out) {
        auto v = reply->get_number(name);
        if (!v) return false;
        out = static_cast<int>(*v);
        return true;
    };
    if (!field("count", c.count) || !field("rate", c.rate) || !field("mail", c.mail) || !field("rcpt", c.rcpt) ||
        !field("newtls", c.newtls) || !field("auth", c.auth))
        return std::unexpected(std::string("malformed lookup reply"));
    return c;
}

}  // namespace pf::ipc
