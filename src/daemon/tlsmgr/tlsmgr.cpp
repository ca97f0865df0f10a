// tlsmgr(8): the TLS session cache and randomness manager, as the
// reference's. One long-lived process (master.cf "tlsmgr unix - - y 1000?
// 1 tlsmgr": a multi-server woken up by master, never retiring on its own)
// that
//  - answers the tlsmgr requests of smtpd, smtp and lmtp on private/tlsmgr
//    (tlsmgr_service.h): session cache lookups/updates/deletes, the caching
//    policy, random bytes and session ticket keys;
//  - keeps the caches in smtpd_tls_session_cache_database,
//    smtp_tls_session_cache_database and lmtp_tls_session_cache_database
//    (emptied at start-up, since a crashed writer may have left a damaged
//    file), each only when its *_tls_session_cache_timeout is positive
//    (raised to 120 s when smaller); the same file for two caches is fatal;
//    expired entries are removed by a scan every timeout seconds;
//  - reseeds OpenSSL from tls_random_source and keeps the PRNG exchange
//    file (tlsmgr_prng.h).
// A master wakeup ("W") is read and the connection closed.
//
// Privileges: the exchange file and the cache tables are opened as
// mail_owner before the chroot (they live in data_directory), the
// entropy device as root; then none.
// Trust: requests from local mail-system processes (tlsmgr_service.h).
#include "config/config.h"
#include "config/mail_params.h"
#include "daemon/tlsmgr/tlsmgr_prng.h"
#include "daemon/tlsmgr/tlsmgr_service.h"
#include "dict/dict_registry.h"
#include "ipc/attr.h"
#include "ipc/mail_server.h"
#include "ipc/request_server.h"
#include "tls/tls_log.h"
#include "util/msg.h"
#include "util/privileges.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/time.h>
#include <vector>

namespace {

using namespace pf;

constexpr int kRequestDeadline = 10;
constexpr int kSourceTimeout = 10;

struct State {
    std::vector<tlsmgr::CacheSlot> slots;
    std::vector<dict::DictPtr> tables;
    std::unique_ptr<tlsmgr::TlsmgrService> service;
    tlsmgr::PrngExchange exch;
    tlsmgr::EntropySource source;
    int rand_bytes = 32;
    int reseed_period = 3600;
    int exch_period = 3600;
};

State& state() {
    static State s;
    return s;
}

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// The time of day into the pool after every event, as the reference does.
void stir_time() {
    timeval tv{};
    ::gettimeofday(&tv, nullptr);
    RAND_seed(&tv, sizeof tv);
}

// A random fraction of period (the reference's unpredictable schedule).
int random_period(int period) {
    unsigned char b = 0;
    if (RAND_bytes(&b, 1) <= 0) b = static_cast<unsigned char>(::getpid() & 0xff);
    return static_cast<int>(static_cast<long long>(period) * b / 255);
}

void exch_event() {
    State& st = state();
    stir_time();
    if (st.exch.removed()) {
        util::msg_warn("PRNG exchange file was removed -- exiting to reopen");
        std::exit(0);
    }
    st.exch.update();
    ipc::server_add_timer(random_period(st.exch_period), exch_event);
}

void reseed_event() {
    State& st = state();
    stir_time();
    if (!st.source.reseed(st.rand_bytes)) {
        if (st.exch.is_open()) st.exch.update();
        std::exit(0);
    }
    ipc::server_add_timer(random_period(st.reseed_period), reseed_event);
}

void cache_event(std::size_t index) {
    State& st = state();
    stir_time();
    tlsmgr::CacheSlot& slot = st.slots[index];
    if (slot.cache->verbose())
        util::msg_info("tlsmgr_cache_run_event: start TLS {} session cache cleanup", slot.label);
    (void)slot.cache->scan(now());
    ipc::server_add_timer(slot.timeout, [index] { cache_event(index); });
}

int time_param(const config::Config& cfg, const char* name) {
    std::string value = cfg.get(name);
    auto v = config::parse_time_value(value, 's');
    if (!v || *v < 0) util::msg_fatal("invalid {} parameter value: \"{}\"", name, value);
    return *v;
}

void pre_init(ipc::ServerContext& ctx) {
    State& st = state();
    const config::Config& cfg = ctx.config;
    stir_time();
    st.rand_bytes = static_cast<int>(config::parse_int_value(cfg.get("tls_random_bytes"), 1 << 20).value_or(32));
    if (st.rand_bytes < 1) util::msg_fatal("invalid tls_random_bytes parameter value: \"{}\"", cfg.get("tls_random_bytes"));
    st.reseed_period = time_param(cfg, "tls_random_reseed_period");
    st.exch_period = time_param(cfg, "tls_random_prng_update_period");
    st.source = tlsmgr::EntropySource::open(cfg.get("tls_random_source"), kSourceTimeout);

    struct Spec {
        const char* label;
        const char* db;
        const char* timeout;
        const char* loglevel;
    };
    static const Spec kSpecs[] = {
        {"smtpd", "smtpd_tls_session_cache_database", "smtpd_tls_session_cache_timeout", "smtpd_tls_loglevel"},
        {"smtp", "smtp_tls_session_cache_database", "smtp_tls_session_cache_timeout", "smtp_tls_loglevel"},
        {"lmtp", "lmtp_tls_session_cache_database", "lmtp_tls_session_cache_timeout", "lmtp_tls_loglevel"},
    };
    util::run_as_user_if_root(cfg.get("mail_owner"), [&] {
        std::string exch = cfg.get("tls_random_exchange_name");
        if (!exch.empty()) st.exch = tlsmgr::PrngExchange::open(exch);
        std::map<std::string, std::string> seen;
        for (const Spec& spec : kSpecs) {
            tlsmgr::CacheSlot slot;
            slot.label = spec.label;
            int timeout = time_param(cfg, spec.timeout);
            slot.timeout = timeout > 0 ? std::max(timeout, tls::kSessionLifeMin) : 0;
            std::string db = cfg.get(spec.db);
            if (slot.timeout > 0 && !db.empty()) {
                if (auto dup = seen.find(db); dup != seen.end())
                    util::msg_fatal("do not use the same TLS cache file {} for {} and {}", db, dup->second, spec.label);
                seen[db] = spec.label;
                bool verbose = (tls::log_mask(spec.loglevel, cfg.get(spec.loglevel)) & tls::kLogCache) != 0;
                if (verbose) util::msg_info("open {} TLS cache {}", spec.label, db);
                mode_t saved_mask = ::umask(077);
                auto table = dict::open(db, O_RDWR | O_CREAT | O_TRUNC, dict::kDupReplace | dict::kLock | dict::kSync);
                ::umask(saved_mask);
                if (!table) util::msg_fatal("{}", table.error().text);
                slot.cache = std::make_unique<tls::SessionCache>(**table, spec.label, verbose, slot.timeout);
                st.tables.push_back(std::move(*table));
            }
            st.slots.push_back(std::move(slot));
        }
    });
    st.service = std::make_unique<tlsmgr::TlsmgrService>(st.slots, now);
}

void post_init(ipc::ServerContext& ctx) {
    State& st = state();
    ctx.max_use = 0;
    ctx.max_idle = 0;
    if (st.source.configured()) reseed_event();
    if (st.exch.is_open()) exch_event();
    for (std::size_t i = 0; i < st.slots.size(); ++i)
        if (st.slots[i].cache) cache_event(i);
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_init = pre_init;
    hooks.post_init = post_init;
    ipc::RequestServer server({.deadline = kRequestDeadline}, [](int, const ipc::AttrList& request) {
        stir_time();
        return std::optional<ipc::AttrList>(state().service->handle(request));
    });
    return ipc::run_multi_server(argc, argv, std::move(hooks), server.client_handler());
}
