// postscreen(8)'s memory of clients: per-test expiry stamps, written to
// postscreen_cache_map as "pregreet;dnsbl;pipelining;non-smtp;bare-newline"
// (decimal times; 0: never passed, 1: never passed and the test was off),
// which tests are due for a client, and the periodic cleanup that drops
// entries whose tests all expired longer than postscreen_cache_retention_time
// ago ("cache <map> full cleanup: retained=N dropped=N entries", first
// run one interval after the last one recorded in the cache). The table
// is locked exclusively for the life of the process, as the reference
// opens it (a second postscreen on the same cache stops with "unable to
// get exclusive lock"). The format is the reference's, so a cache
// survives a swap either way.
//
// Trust: cache entries are parsed strictly; a field that is not a number
// counts as a disabled test, as the reference reads it.
#include "daemon/postscreen/postscreen_state.h"

#include "dict/dict_registry.h"
#include "ipc/mail_server.h"
#include "util/msg.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

namespace pf::postscreen {

namespace {

dict::DictPtr g_cache;
int g_lock_fd = -1;  // holds the exclusive lock on the cache file for the process's life
constexpr std::string_view kLastCleanupKey = "_LAST_CACHE_CLEANUP_COMPLETED_";

bool test_enabled(int i) {
    const Settings& st = settings();
    switch (i) {
    case kPregr: return !st.teaser.empty();
    case kDnsbl: return !st.dnsbl_sites.empty();
    default: return st.deep_enable[i];
    }
}

void cleanup_event() {
    if (!g_cache) return;
    const Settings& st = settings();
    long horizon = static_cast<long>(std::time(nullptr)) - st.cache_retention;
    std::vector<std::string> drop;
    int retained = 0;
    for (auto e = g_cache->sequence(dict::SequenceStart::first); e; e = g_cache->sequence(dict::SequenceStart::next)) {
        if (e->key == kLastCleanupKey) continue;
        ClientInfo info;
        parse_stamps(info, e->value);
        if ((todo_tests(info, horizon) & kAnyTodo) == 0)
            ++retained;
        else
            drop.push_back(e->key);
    }
    for (const auto& k : drop) g_cache->remove(k);
    util::msg_info("cache {} full cleanup: retained={} dropped={} entries", st.cache_name, retained, drop.size());
    g_cache->update(kLastCleanupKey, std::to_string(std::time(nullptr)));
    ipc::server_add_timer(st.cache_cleanup_interval, cleanup_event);
}

}  // namespace

void parse_stamps(ClientInfo& info, std::string_view text) {
    std::size_t pos = 0;
    for (int i = 0; i < kTestCount; ++i) {
        std::size_t start = pos;
        unsigned long long v = 0;
        bool overflow = false;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            v = v * 10 + static_cast<unsigned>(text[pos] - '0');
            if (v > (1ULL << 62)) overflow = true;
            ++pos;
        }
        bool ok = start < text.size() && pos > start && !overflow && (pos == text.size() || text[pos] == ';');
        info.expire[i] = ok ? static_cast<long>(v) : kStampDisabled;
        // Skip to the next field the way the reference's scanner does.
        if (pos < text.size() && text[pos] == ';') ++pos;
        else if (!ok) {
            // An unparsable field: the reference stops at the bad byte, so
            // the next field starts there and fails too.
        }
    }
}

unsigned todo_tests(const ClientInfo& info, long now) {
    unsigned flags = 0;
    for (int i = 0; i < kTestCount; ++i)
        if (info.expire[i] == kStampNew) flags |= kNew;
    for (int i = 0; i < kTestCount; ++i)
        if (test_enabled(i) && now > info.expire[i]) flags |= todo_flag(i);
    return flags;
}

std::string print_stamps(ClientInfo& info) {
    for (int i = 0; i < kTestCount; ++i)
        if (!test_enabled(i) && info.expire[i] == kStampNew) info.expire[i] = kStampDisabled;
    return fmt::format("{};{};{};{};{}", info.expire[0], info.expire[1], info.expire[2], info.expire[3],
                       info.expire[4]);
}

bool cache_open() {
    const Settings& st = settings();
    mode_t saved = ::umask(022);
    // As the reference opens it: locked once, exclusively, for as long as
    // the process runs (a second postscreen on the same cache stops), so
    // no lock per lookup.
    auto table = dict::open(st.cache_name, O_CREAT | O_RDWR, dict::kDupReplace | dict::kSync);
    ::umask(saved);
    if (!table) util::msg_fatal("{}", table.error().text);
    g_cache = std::move(*table);
    const std::string& type = g_cache->type();
    if (type == "btree" || type == "hash") {
        std::string file = g_cache->name();
        if (!file.ends_with(".db")) file += ".db";
        g_lock_fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
        if (g_lock_fd < 0 || ::flock(g_lock_fd, LOCK_EX | LOCK_NB) != 0)
            util::msg_fatal("{}: unable to get exclusive lock: {}", st.cache_name, std::strerror(errno));
    }
    return true;
}

std::optional<std::string> cache_lookup(const std::string& addr) {
    if (!g_cache) return std::nullopt;
    auto r = g_cache->lookup(addr);
    if (r.is_found()) return r.value();
    if (r.is_error()) util::msg_warn("{} lookup error for \"{}\"", g_cache->type_name(), addr);
    return std::nullopt;
}

void cache_update(const std::string& addr, const std::string& value) {
    if (!g_cache) return;
    if (g_cache->update(addr, value) == dict::ChangeStatus::failed)
        util::msg_warn("{} update error for \"{}\"", g_cache->type_name(), addr);
}

// The first cleanup comes one interval after the last completed one (kept
// in the cache under kLastCleanupKey, as the reference keeps it); at once
// when there was none or it is overdue (then before the first client).
void cache_start_cleanup() {
    const int interval = settings().cache_cleanup_interval;
    if (!g_cache || interval <= 0) return;
    long next = 0;
    if (auto last = g_cache->lookup(kLastCleanupKey); last.is_found())
        next = std::atol(last.value().c_str()) + interval - static_cast<long>(std::time(nullptr));
    if (next <= 0) {
        cleanup_event();
        return;
    }
    ipc::server_add_timer(static_cast<int>(std::min<long>(next, interval)), cleanup_event);
}

}  // namespace pf::postscreen
