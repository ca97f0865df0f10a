// scache(8): the shared connection cache of the smtp/lmtp clients, as the
// reference runs it: one multi-server process (maxproc 1 in master.cf)
// holding open SMTP/LMTP connections that clients hand over and take back
// as descriptors (scache_service.h), each kept at most
// connection_cache_ttl_limit. Statistics are logged every
// connection_cache_status_update_time and when the process exits on its
// own (max_idle without a client; there is no use limit); a SIGTERM from
// master ends it without them, as the reference's.
//
// Privileges: none (mail_owner, chroot as master.cf says).
// Trust: clients are our own smtp/lmtp processes on private/scache.
#include "daemon/scache/scache_service.h"

#include "config/mail_params.h"
#include "ipc/mail_server.h"
#include "util/msg.h"

#include <chrono>
#include <csignal>
#include <memory>

namespace {

using namespace pf;

struct State {
    std::unique_ptr<scache::Service> service;
    int stat_time = 600;
    // The expiry timer (scache_store.h has no timers of its own).
    bool armed = false;
    scache::Clock::time_point armed_due{};
    unsigned timer_generation = 0;
};

State& state() {
    static State s;
    return s;
}

int time_param(const config::Config& cfg, const std::string& name) {
    std::string value = cfg.get(name);
    auto v = config::parse_time_value(value, 's');
    if (!v || *v < 1) util::msg_fatal("invalid {} parameter value: \"{}\"", name, value);
    return *v;
}

void log_statistics() {
    for (const auto& line : state().service->dump_statistics(std::time(nullptr))) util::msg_info("{}", line);
}

void status_timer() {
    log_statistics();
    ipc::server_add_timer(state().stat_time, status_timer);
}

// Closes what has expired; runs again when the next entry is due. One
// timer chain at a time: a timer armed earlier than a newer one finds its
// generation stale and does nothing.
void arm_expiry();

void expire_timer(unsigned generation) {
    if (generation != state().timer_generation) return;
    state().armed = false;
    state().service->store().expire(scache::Clock::now());
    arm_expiry();
}

void arm_expiry() {
    auto next = state().service->store().next_expiry();
    if (!next) return;
    if (state().armed && state().armed_due <= *next) return;
    auto wait = std::chrono::ceil<std::chrono::seconds>(*next - scache::Clock::now()).count();
    unsigned generation = ++state().timer_generation;
    state().armed = true;
    state().armed_due = *next;
    ipc::server_add_timer(wait < 1 ? 1 : static_cast<int>(wait), [generation] { expire_timer(generation); });
}

bool scache_client(ipc::ServerContext&, int fd) {
    auto& service = *state().service;
    bool keep = service.serve(fd);
    // Whatever was saved goes away in time.
    arm_expiry();
    return keep;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        int ttl_limit = time_param(ctx.config, "connection_cache_ttl_limit");
        state().stat_time = time_param(ctx.config, "connection_cache_status_update_time");
        int timeout = time_param(ctx.config, "ipc_timeout");
        state().service = std::make_unique<scache::Service>(ttl_limit, timeout);
    };
    hooks.post_init = [](ipc::ServerContext& ctx) {
        // No use limit: only max_idle without a client ends the process.
        ctx.max_use = 0;
        state().service->start_interval(std::time(nullptr));
        ipc::server_add_timer(state().stat_time, status_timer);
    };
    int status = ipc::run_multi_server(argc, argv, std::move(hooks), scache_client);
    if (state().service) log_statistics();
    return status;
}
