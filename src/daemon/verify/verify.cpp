// verify(8): the address verification service behind
// reject_unverified_sender and reject_unverified_recipient, as the
// reference's: smtpd asks it about an address (query), it answers from
// its cache (verify_cache.h) and, when it knows nothing fresh, sends a
// probe message (verify_probe.h); the delivery agents that handle the
// probe report the result (update). One process for all clients
// (master.cf maxproc 1); the cache is address_verify_map (default
// btree:$data_directory/verify_cache), or process memory when that is
// empty (then the process never retires on its own). Expired entries are
// dropped every address_verify_cache_cleanup_interval ("cache <table>
// full cleanup: retained=N dropped=N entries"), the first time when the
// process starts if the table records no cleanup within the interval.
//
// Privileges: the cache file is opened as mail_owner before the chroot
// (data_directory is outside the queue); then none. The process leaves the
// master's process group (setsid) so that a signal to the group does not
// kill it in the middle of a table update.
// Trust: requests from local processes that can reach private/verify; a
// malformed request drops that client only.
#include "config/config.h"
#include "config/mail_params.h"
#include "daemon/verify/verify_cache.h"
#include "daemon/verify/verify_probe.h"
#include "daemon/verify/verify_service.h"
#include "dict/dict_registry.h"
#include "ipc/attr.h"
#include "ipc/mail_server.h"
#include "ipc/request_server.h"
#include "util/msg.h"
#include "util/privileges.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

using namespace pf;

constexpr int kRequestDeadline = 10;
constexpr std::string_view kLastCleanupKey = "_LAST_CACHE_CLEANUP_COMPLETED_";

struct State {
    dict::DictPtr table;
    std::unique_ptr<verify::VerifyCache> cache;
    std::unique_ptr<verify::VerifyService> service;
    std::string queue_directory;
    std::string map_name;   // as configured: "btree:/path" without the suffix
    std::string sender;
    long sender_ttl = 0;
    int cleanup_interval = 0;
    config::Config* config = nullptr;
};

State& state() {
    static State s;
    return s;
}

long now() { return static_cast<long>(std::time(nullptr)); }

void cleanup_timer() {
    State& st = state();
    auto [retained, dropped] = st.cache->cleanup();
    util::msg_info("cache {} full cleanup: retained={} dropped={} entries", st.map_name, retained, dropped);
    st.table->update(kLastCleanupKey, std::to_string(now()));
    ipc::server_add_timer(st.cleanup_interval, cleanup_timer);
}

void probe(std::string_view address) {
    State& st = state();
    std::string sender;
    try {
        sender = verify::probe_sender(st.sender, st.sender_ttl, std::time(nullptr));
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    verify::send_probe(*st.config, st.queue_directory, sender, address);
}

// Opens the cache table with mail_owner's effective ids when we are root,
// so the file belongs to the mail system.
dict::DictPtr open_cache(const config::Config& cfg) {
    std::string map = cfg.get("address_verify_map");
    const dict::Flags flags = dict::kDupReplace | dict::kSync | dict::kLock;
    if (map.empty()) map = "internal:verify";
    dict::OpenResult table = std::unexpected(dict::Error{});
    util::run_as_user_if_root(cfg.get("mail_owner"), [&] {
        // The reference creates the file world-readable whatever master's umask.
        mode_t saved_mask = ::umask(022);
        table = dict::open(map, O_CREAT | O_RDWR, flags);
        ::umask(saved_mask);
    });
    if (!table) util::msg_fatal("{}", table.error().text);
    return std::move(*table);
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        ::setsid();
        State& st = state();
        st.config = &ctx.config;
        st.table = open_cache(ctx.config);
        st.map_name = ctx.config.get("address_verify_map");
        if (st.map_name.empty()) st.map_name = st.table->type_name();
        verify::CacheTimes times;
        auto time_of = [&](const char* name, char unit, long fallback) {
            auto v = config::parse_time_value(ctx.config.get(name), unit);
            if (!v) util::msg_fatal("bad time value for parameter {}: {}", name, ctx.config.get(name));
            return v ? static_cast<long>(*v) : fallback;
        };
        times.positive_expire = time_of("address_verify_positive_expire_time", 'd', times.positive_expire);
        times.positive_refresh = time_of("address_verify_positive_refresh_time", 'd', times.positive_refresh);
        times.negative_expire = time_of("address_verify_negative_expire_time", 'd', times.negative_expire);
        times.negative_refresh = time_of("address_verify_negative_refresh_time", 'h', times.negative_refresh);
        times.negative_cache =
            config::parse_bool_value(ctx.config.get("address_verify_negative_cache")).value_or(true);
        st.cleanup_interval = static_cast<int>(time_of("address_verify_cache_cleanup_interval", 'h', 12 * 3600));
        st.sender = ctx.config.get("address_verify_sender");
        st.sender_ttl = time_of("address_verify_sender_ttl", 's', 0);
        try {
            (void)verify::probe_sender(st.sender, st.sender_ttl, std::time(nullptr));
        } catch (const std::exception& e) {
            util::msg_fatal("{}", e.what());
        }
        st.cache = std::make_unique<verify::VerifyCache>(*st.table, times, now);
        st.service = std::make_unique<verify::VerifyService>(*st.cache, probe);
    };
    hooks.post_init = [](ipc::ServerContext& ctx) {
        State& st = state();
        st.queue_directory = ctx.config.get("queue_directory");
        if (ctx.config.get("address_verify_map").empty()) {
            ctx.max_use = 0;
            ctx.max_idle = 0;
        }
        // As the reference: the first cleanup is due one interval after
        // the last completed one (recorded in the table), at once when
        // none is recorded.
        if (st.cleanup_interval > 0) {
            long due = 0;
            auto last = st.table->lookup(kLastCleanupKey);
            if (last.is_found()) {
                long when = std::strtol(last.value().c_str(), nullptr, 10);
                due = std::max(0L, when + st.cleanup_interval - now());
            }
            if (due == 0)
                cleanup_timer();
            else
                ipc::server_add_timer(static_cast<int>(due), cleanup_timer);
        }
    };
    ipc::RequestServer server({.deadline = kRequestDeadline}, [](int, const ipc::AttrList& request) {
        return std::optional<ipc::AttrList>(state().service->handle(request));
    });
    return ipc::run_multi_server(argc, argv, std::move(hooks), server.client_handler());
}
