// anvil(8): the connection and rate counter service smtpd asks before it
// serves a client (smtpd_client_connection_count_limit and the rate
// limits), as the reference's anvil: one process (master.cf maxproc 1) for
// all smtpd processes, requests on private/anvil
//   {request=connect|disconnect|message|recipient|newtls|newtls_status|auth|lookup,
//    ident=<service>:<client address>}
//   → {status=0, count=.., rate=..} (connect), {status=0, rate=..} (the
//     rate requests), {status=0} (disconnect), {status=0, count, rate,
//     mail, rcpt, newtls, auth} (lookup), {status=-1} (unknown request);
// the peaks are logged every anvil_status_update_time and when the process
// exits ("statistics: max connection rate 3/60s for (smtp:192.0.2.1) at
// ..."). The counters live in anvil_table.h.
//
// Privileges: none (mail_owner, chrooted when master.cf says so).
// Trust: requests come from local processes that can reach the private
// socket; a malformed request drops that client only.
#include "daemon/anvil/anvil_table.h"
#include "config/mail_params.h"
#include "ipc/attr.h"
#include "ipc/mail_server.h"
#include "ipc/request_server.h"
#include "util/msg.h"

#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

namespace {

using namespace pf;

constexpr int kRequestDeadline = 1;

struct State {
    std::unique_ptr<anvil::AnvilTable> table;
    int status_interval = 600;
};

State& state() {
    static State s;
    return s;
}

void dump_status() {
    if (!state().table) return;
    for (const auto& line : state().table->status_report()) util::msg_info("{}", line);
}

void status_timer() {
    dump_status();
    ipc::server_add_timer(state().status_interval, status_timer);
}

ipc::AttrList handle(int client, const ipc::AttrList& request) {
    anvil::AnvilTable& t = *state().table;
    std::time_t now = std::time(nullptr);
    t.expire(now);
    std::string req(request.get("request").value_or(""));
    std::string ident(request.get("ident").value_or(""));
    ipc::AttrList reply;
    if (req == "connect") {
        const anvil::Remote& r = t.connect(client, ident, now);
        reply.add("status", 0LL).add("count", static_cast<long long>(r.count)).add("rate", static_cast<long long>(r.rate));
    } else if (req == "disconnect") {
        t.disconnect(client, ident, now);
        reply.add("status", 0LL);
    } else if (req == "message" || req == "recipient" || req == "newtls" || req == "auth") {
        auto what = req == "message"     ? anvil::AnvilTable::Event::mail
                    : req == "recipient" ? anvil::AnvilTable::Event::rcpt
                    : req == "newtls"    ? anvil::AnvilTable::Event::newtls
                                         : anvil::AnvilTable::Event::auth;
        reply.add("status", 0LL).add("rate", static_cast<long long>(t.event(client, what, ident, now)));
    } else if (req == "newtls_status") {
        reply.add("status", 0LL).add("rate", static_cast<long long>(t.newtls_rate(ident, now)));
    } else if (req == "lookup") {
        anvil::Remote r = t.lookup(ident, now);
        reply.add("status", 0LL)
            .add("count", static_cast<long long>(r.count))
            .add("rate", static_cast<long long>(r.rate))
            .add("mail", static_cast<long long>(r.mail))
            .add("rcpt", static_cast<long long>(r.rcpt))
            .add("newtls", static_cast<long long>(r.ntls))
            .add("auth", static_cast<long long>(r.auth));
    } else {
        util::msg_warn("unrecognized request: \"{}\", ignored", req);
        reply.add("status", -1LL);
    }
    return reply;
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.post_init = [](ipc::ServerContext& ctx) {
        int unit = config::parse_time_value(ctx.config.get("anvil_rate_time_unit"), 's').value_or(60);
        int status = config::parse_time_value(ctx.config.get("anvil_status_update_time"), 's').value_or(600);
        if (unit < 1) util::msg_fatal("invalid anvil_rate_time_unit parameter value {} < 1", unit);
        if (status < 1) util::msg_fatal("invalid anvil_status_update_time parameter value {} < 1", status);
        state().table = std::make_unique<anvil::AnvilTable>(unit);
        state().status_interval = status;
        // Counters must outlive single clients: no use limit, and at least
        // one time unit of idleness before the process ends.
        ctx.max_use = 0;
        if (ctx.max_idle < unit) ctx.max_idle = unit;
        ipc::server_add_timer(status, status_timer);
        std::atexit(dump_status);
    };
    ipc::RequestServer server(
        {.deadline = kRequestDeadline},
        [](int fd, const ipc::AttrList& request) -> std::optional<ipc::AttrList> {
            if (!request.get("request") || !request.get("ident")) return std::nullopt;
            return handle(fd, request);
        },
        [](int fd) { state().table->client_gone(fd, std::time(nullptr)); });
    return ipc::run_multi_server(argc, argv, std::move(hooks), server.client_handler());
}
