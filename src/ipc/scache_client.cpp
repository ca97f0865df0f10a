// The scache(8) client: see scache_client.h.
#include "ipc/scache_client.h"

#include "util/msg.h"

#include <unistd.h>

namespace pf::ipc {

bool ScacheClient::open() {
    if (conn_.is_open()) return true;
    auto c = connect_service(queue_directory_, "private", service_, timeout_);
    if (!c) {
        util::msg_warn("connect to {}: {}", path(), c.error());
        return false;
    }
    conn_ = std::move(*c);
    auto hello = conn_.receive(timeout_);
    if (!hello || hello->get_or("protocol", "") != scache::kProtocol) {
        util::msg_warn("problem talking to service {}: {}", path(),
                       hello ? std::string("unexpected protocol announcement") : std::string(attr_error_text(hello.error())));
        conn_ = ServiceConnection();
        return false;
    }
    return true;
}

template <typename F>
ScacheClient::Outcome ScacheClient::attempt(F&& exchange) {
    for (int tries = 0; !disabled_; ++tries) {
        if (open()) {
            std::expected<bool, std::string> r = exchange();
            if (r) return *r ? Outcome::done : Outcome::not_found;
            util::msg_warn("problem talking to service {}: {}", path(), r.error());
            conn_ = ServiceConnection();
        }
        if (tries >= 1) {
            util::msg_warn("disabling connection caching");
            disabled_ = true;
            break;
        }
        ::sleep(1);
    }
    return Outcome::failed;
}

std::expected<AttrList, std::string> ScacheClient::request(const AttrList& req) {
    if (auto s = conn_.send(req, timeout_); !s) return std::unexpected(std::string(attr_error_text(s.error())));
    auto reply = conn_.receive(timeout_);
    if (!reply) return std::unexpected(std::string(attr_error_text(reply.error())));
    return std::move(*reply);
}

void ScacheClient::save_endp(int ttl, const std::string& endp_label, const std::string& endp_prop, UniqueFd fd) {
    if (ttl <= 0) util::msg_panic("scache save_endp: bad endp_ttl: {}", ttl);
    attempt([&]() -> std::expected<bool, std::string> {
        AttrList req;
        req.add("request", scache::kSaveEndp).add("ttl", static_cast<long long>(ttl));
        req.add("label", endp_label).add("property", endp_prop);
        auto dummy = request(req);
        if (!dummy) return std::unexpected(dummy.error());
        // A server that refused the request answers with its status
        // instead of the go-ahead.
        if (dummy->get("status")) return false;
        if (auto s = send_fd(conn_.fd(), fd.get(), timeout_); !s) return std::unexpected(s.error());
        auto st = conn_.receive(timeout_);
        if (!st) return std::unexpected(std::string(attr_error_text(st.error())));
        auto status = st->get_number("status");
        if (!status) return std::unexpected(std::string("malformed reply"));
        if (util::msg_verbose && *status != 0)
            util::msg_warn("scache save_endp: descriptor save failed with status {}", *status);
        return true;
    });
    // fd closes here in every case.
}

void ScacheClient::save_dest(int ttl, const std::string& dest_label, const std::string& dest_prop,
                             const std::string& endp_label) {
    if (ttl <= 0) util::msg_panic("scache save_dest: bad dest_ttl: {}", ttl);
    attempt([&]() -> std::expected<bool, std::string> {
        AttrList req;
        req.add("request", scache::kSaveDest).add("ttl", static_cast<long long>(ttl));
        req.add("label", dest_label).add("property", dest_prop).add("label", endp_label);
        auto st = request(req);
        if (!st) return std::unexpected(st.error());
        auto status = st->get_number("status");
        if (!status) return std::unexpected(std::string("malformed reply"));
        if (util::msg_verbose && *status != 0)
            util::msg_warn("scache save_dest: destination save failed with status {}", *status);
        return true;
    });
}

namespace {

// The second half of a successful find: go-ahead, descriptor, confirmation.
std::expected<UniqueFd, std::string> take_fd(ServiceConnection& conn, int timeout) {
    AttrList dummy;
    dummy.add("dummy", "");
    if (auto s = conn.send(dummy, timeout); !s) return std::unexpected(std::string(attr_error_text(s.error())));
    auto fd = receive_fd(conn.fd(), timeout);
    if (!fd) return std::unexpected(fd.error());
    // The server waits for this before it closes its copy.
    (void)conn.send(dummy, timeout);
    return fd;
}

}  // namespace

std::optional<ScacheFound> ScacheClient::find(const char* request_name, const std::string& label, FoundParser parse) {
    ScacheFound found;
    auto outcome = attempt([&]() -> std::expected<bool, std::string> {
        AttrList req;
        req.add("request", request_name).add("label", label);
        auto st = request(req);
        if (!st) return std::unexpected(st.error());
        auto status = st->get_number("status");
        if (!status || !parse(*st, found)) return std::unexpected(std::string("malformed reply"));
        if (*status != scache::kStatOk) return false;
        auto fd = take_fd(conn_, timeout_);
        if (!fd) return std::unexpected(fd.error());
        found.fd = std::move(*fd);
        return true;
    });
    if (outcome != Outcome::done) return std::nullopt;
    return found;
}

std::optional<ScacheFound> ScacheClient::find_endp(const std::string& endp_label) {
    return find(scache::kFindEndp, endp_label, [](const AttrList& reply, ScacheFound& found) {
        auto prop = reply.get("property");
        if (!prop) return false;
        found.endp_prop = std::string(*prop);
        return true;
    });
}

std::optional<ScacheFound> ScacheClient::find_dest(const std::string& dest_label) {
    return find(scache::kFindDest, dest_label, [](const AttrList& reply, ScacheFound& found) {
        auto props = reply.get_all("property");
        if (props.size() != 2) return false;
        found.dest_prop = std::string(props[0]);
        found.endp_prop = std::string(props[1]);
        return true;
    });
}

}  // namespace pf::ipc
