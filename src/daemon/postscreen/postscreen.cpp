// postscreen(8): one process (master.cf maxproc 1) that takes every SMTP
// connection on port 25 first, runs the reference's tests before the
// greeting (permanent access list, pregreet, DNSBL score) from one event
// loop, remembers passed clients in postscreen_cache_map, and hands a
// client that passed to an smtpd "pass" service (private/<smtpd service>)
// with its descriptor and connection attributes; a client that failed
// gets the reference's 421/521/550 replies, or its dummy SMTP engine.
// Log lines are the reference's (CONNECT from, PASS NEW/OLD, PREGREET,
// DNSBL rank, HANGUP, DISCONNECT, ALLOWLISTED/DENYLISTED or the older
// WHITELISTED/BLACKLISTED per respectful_logging, NOQUEUE: reject: ...).
//
// Privileges: mail_owner (chrooted when master.cf says so); the cache is
// opened before that, as mail_owner. Trust: remote clients are hostile;
// smtpd and dnsblog are our own processes.
#include "daemon/postscreen/postscreen_state.h"

#include "config/expand.h"
#include "config/mail_params.h"
#include "dict/dict_registry.h"
#include "dict/dict_watch.h"
#include "ipc/attr.h"
#include "ipc/fd_passing.h"
#include "ipc/mail_server.h"
#include "ipc/service_client.h"
#include "tls/tls_level.h"
#include "util/escape.h"
#include "util/msg.h"
#include "util/privileges.h"
#include "util/brace_tokens.h"
#include "util/strings.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include <fmt/core.h>

namespace pf::postscreen {

namespace {

Settings g_settings;
std::map<int, std::unique_ptr<Session>> g_sessions;
std::unordered_map<std::string, std::unique_ptr<ClientInfo>> g_clients;
int g_next_id = 1;
int g_check_queue = 0;
int g_post_queue = 0;

Action parse_action(const config::Config& cfg, const char* name) {
    std::string v = util::to_lower(cfg.get(name));
    if (v == "ignore") return Action::ignore;
    if (v == "enforce") return Action::enforce;
    if (v == "drop") return Action::drop;
    util::msg_fatal("unknown {} value \"{}\"", name, cfg.get(name));
}

// Time and number parameters with the reference's lower bounds and words.
int time_of(const config::Config& cfg, const char* name, char unit, int min = 0) {
    auto v = config::parse_time_value(cfg.get(name), unit);
    if (!v) util::msg_fatal("parameter {}: bad time value or unit: {}", name, cfg.get(name));
    if (*v < min) util::msg_fatal("invalid {}: {} (min {})", name, *v, min);
    return *v;
}

int int_of(const config::Config& cfg, const char* name, int min = 0) {
    auto v = config::parse_int_value(cfg.get(name), 1LL << 30);
    if (!v) util::msg_fatal("bad numerical configuration: {} = {}", name, cfg.get(name));
    if (*v < min) util::msg_fatal("invalid {} parameter value {} < {}", name, *v, min);
    return static_cast<int>(*v);
}

// A signed value (the DNSBL allowlist threshold is <= 0).
int signed_int_of(const config::Config& cfg, const char* name) {
    std::string text = cfg.get(name);
    std::string_view v = text;
    bool negative = !v.empty() && v.front() == '-';
    if (negative) v.remove_prefix(1);
    auto n = config::parse_int_value(v, 1LL << 30);
    if (!n) util::msg_fatal("bad numerical configuration: {} = {}", name, text);
    return static_cast<int>(negative ? -*n : *n);
}

// Whether the built-in engine offers STARTTLS (and requires it), from
// postscreen_tls_security_level or, when that is empty, the legacy
// postscreen_use_tls / postscreen_enforce_tls, as the reference decides.
void read_tls_level(const config::Config& cfg, Settings& st) {
    auto wanted = tls::server_tls_from_level("postscreen_tls_security_level", cfg.get("postscreen_tls_security_level"),
                                          {config::get_bool_param(cfg, "postscreen_use_tls"),
                                           config::get_bool_param(cfg, "postscreen_enforce_tls")});
    st.use_tls = wanted.use;
    st.enforce_tls = wanted.enforce;
    st.use_tls = st.use_tls || st.enforce_tls;
}

void read_settings(const config::Config& cfg) {
    Settings& st = g_settings;
    st.myhostname = cfg.get("myhostname");
    st.smtpd_banner = cfg.get("smtpd_banner");
    std::string banner = cfg.get("postscreen_greet_banner");
    st.teaser = banner.empty() ? std::string() : "220-" + banner + "\r\n";
    st.greet_wait = time_of(cfg, "postscreen_greet_wait", 's', 1);
    st.greet_ttl = time_of(cfg, "postscreen_greet_ttl", 'd', 1);
    st.greet_action = parse_action(cfg, "postscreen_greet_action");
    st.denylist_action = parse_action(cfg, "postscreen_denylist_action");
    st.dnsbl_action = parse_action(cfg, "postscreen_dnsbl_action");
    const char* const deep[][4] = {{"postscreen_pipelining_enable", "postscreen_pipelining_action", "postscreen_pipelining_ttl"},
                                   {"postscreen_non_smtp_command_enable", "postscreen_non_smtp_command_action",
                                    "postscreen_non_smtp_command_ttl"},
                                   {"postscreen_bare_newline_enable", "postscreen_bare_newline_action",
                                    "postscreen_bare_newline_ttl"}};
    for (int i = kPipel; i <= kBarlf; ++i) {
        st.deep_enable[i] = config::get_bool_param(cfg, deep[i - kPipel][0]);
        st.deep_action[i] = parse_action(cfg, deep[i - kPipel][1]);
        st.deep_ttl[i] = time_of(cfg, deep[i - kPipel][2], 'd', 1);
    }
    ehlo_discard_init(cfg);
    command_filter_init(cfg);
    for (const auto& w : util::split_braced_list(cfg.get("postscreen_forbidden_commands"))) {
        if (w.find(':') == std::string::npos) {
            st.forbidden_words.push_back(w);
            continue;
        }
        auto table = dict::open(w, O_RDONLY, dict::kLock | dict::kFoldFixed);
        if (!table) util::msg_fatal("{}", table.error().text);
        st.forbidden_tables.push_back(std::shared_ptr<dict::Dict>(std::move(*table)));
    }
    st.dnsbl_threshold = int_of(cfg, "postscreen_dnsbl_threshold", 1);
    st.dnsbl_allowlist_threshold = signed_int_of(cfg, "postscreen_dnsbl_allowlist_threshold");
    st.dnsbl_min_ttl = time_of(cfg, "postscreen_dnsbl_min_ttl", 's', 1);
    st.dnsbl_max_ttl = time_of(cfg, "postscreen_dnsbl_max_ttl", 'h', 1);
    st.min_ttl = std::min({st.greet_ttl, st.dnsbl_min_ttl, st.deep_ttl[kPipel], st.deep_ttl[kNsmtp], st.deep_ttl[kBarlf]});
    st.dnsbl_timeout = time_of(cfg, "postscreen_dnsbl_timeout", 's', 1);
    for (const auto& entry : split_dnsbl_sites(cfg.get("postscreen_dnsbl_sites"))) {
        auto site = parse_dnsbl_site(entry);
        if (!site) util::msg_fatal("{}", site.error());
        st.dnsbl_sites.push_back(std::move(*site));
    }
    if (std::string map = cfg.get("postscreen_dnsbl_reply_map"); !map.empty()) {
        auto table = dict::open(map, O_RDONLY, dict::kDupWarn);
        if (!table) util::msg_fatal("{}", table.error().text);
        for (const auto& site : st.dnsbl_sites) {
            auto r = (*table)->lookup(site.domain);
            if (r.is_found()) st.dnsbl_display[site.domain] = r.value();
            else if (r.is_error()) util::msg_fatal("{} lookup error", (*table)->type_name());
        }
    }
    st.dnsblog_service = "private/" + cfg.get("dnsblog_service_name");
    st.smtpd_service = "private/" + cfg.get("smtpd_service_name");
    st.tlsproxy_service = "private/" + cfg.get("tlsproxy_service_name");
    read_tls_level(cfg, st);
    st.post_queue_limit = int_of(cfg, "postscreen_post_queue_limit", 5);
    st.pre_queue_limit = int_of(cfg, "postscreen_pre_queue_limit", 10);
    st.client_connection_limit = int_of(cfg, "postscreen_client_connection_count_limit");
    st.command_time_limit = time_of(cfg, "postscreen_command_time_limit", 's', 1);
    st.command_count_limit = int_of(cfg, "postscreen_command_count_limit", 1);
    st.line_length_limit = int_of(cfg, "line_length_limit");
    st.respectful_logging = config::get_bool_param(cfg, "respectful_logging");
    if (auto below = config::compare_compat_levels(cfg.get("compatibility_level"), "3.6"); below && *below < 0)
        st.warn_respectful_logging = cfg.main_cf().find("respectful_logging") == nullptr &&
                                     cfg.overrides().find("respectful_logging") == cfg.overrides().end();
    st.helo_required = config::get_bool_param(cfg, "postscreen_helo_required");
    st.disable_vrfy = config::get_bool_param(cfg, "postscreen_disable_vrfy_command");
    st.soft_bounce = config::get_bool_param(cfg, "soft_bounce");
    st.smtputf8 = config::get_bool_param(cfg, "smtputf8_enable");
    st.message_size_limit = config::parse_int_value(cfg.get("message_size_limit"), 1LL << 62).value_or(10240000);
    st.delay_resolution = int_of(cfg, "delay_logging_resolution_limit");
    if (st.delay_resolution > 6) st.delay_resolution = 6;
    st.cache_retention = time_of(cfg, "postscreen_cache_retention_time", 'd', 1);
    st.cache_cleanup_interval = time_of(cfg, "postscreen_cache_cleanup_interval", 'h');
    st.cache_name = cfg.get("postscreen_cache_map");
}

void send_socket_close_event(Session& s) {
    clear_events(s);
    free_session(s);
}

void send_socket_timeout(Session& s) {
    util::msg_warn("timeout sending connection to service {}", g_settings.smtpd_service);
    clear_events(s);
    free_session(s);
}

// Hands the client to smtpd: its descriptor, then the connection
// attributes; then waits for smtpd to close the channel.
void send_socket(Session& s) {
    auto conn = ipc::connect_unix(g_settings.smtpd_service, 1, false);
    if (!conn) {
        util::msg_warn("cannot connect to service {}: {}", g_settings.smtpd_service, conn.error());
        send_reply(s, "421 4.3.2 All server ports are busy\r\n");
        free_session(s);
        return;
    }
    int server_fd = ::dup(conn->fd());
    bool ok = server_fd >= 0 && ipc::send_fd(server_fd, s.fd, 1).has_value();
    if (ok) {
        ipc::AttrList attrs;
        attrs.add("client_address", s.addr).add("client_port", s.port);
        attrs.add("server_address", s.server_addr).add("server_port", s.server_port);
        ok = ipc::send_attrs(server_fd, attrs, 1).has_value();
    }
    if (!ok) {
        util::msg_warn("cannot pass connection to service {}: {}", g_settings.smtpd_service, std::strerror(errno));
        if (server_fd >= 0) ::close(server_fd);
        send_reply(s, "421 4.3.2 No system resources\r\n");
        free_session(s);
        return;
    }
    s.server_fd = server_fd;
    ++g_post_queue;
    // Our copy of the client is no longer needed once smtpd has it.
    loop().watch_fd(server_fd, [id = s.id] {
        if (Session* p = find_session(id)) send_socket_close_event(*p);
    });
    set_timer(s, 100, send_socket_timeout);
}

// The reference notes once per process that the older log words come
// from the compatibility default.
void note_compat_logging(const Session& s) {
    if (!g_settings.warn_respectful_logging) return;
    util::msg_info("using backwards-compatible default setting respectful_logging=no for client [{}]:{}", s.addr,
                   s.port);
    g_settings.warn_respectful_logging = false;
}

// The endpoints are known (postscreen_endpoint.cpp): the session starts.
void start_session(int client_fd, const Endpoints& ep) {
    const std::string& addr = ep.addr;
    const std::string& port = ep.port;
    util::msg_info("CONNECT from [{}]:{} to [{}]:{}", addr, port, ep.server_addr, ep.server_port);

    auto owned = std::make_unique<Session>();
    Session& s = *owned;
    s.id = g_next_id++;
    s.fd = client_fd;
    s.addr = addr;
    s.port = port;
    s.server_addr = ep.server_addr;
    s.server_port = ep.server_port;
    g_sessions.emplace(s.id, std::move(owned));
    ++g_check_queue;
    auto& slot = g_clients[addr];
    if (!slot) slot = std::make_unique<ClientInfo>();
    s.info = slot.get();
    s.info->concurrency += 1;
    const Settings& st = g_settings;

    if (st.client_connection_limit > 0 && s.info->concurrency > st.client_connection_limit) {
        util::msg_info("NOQUEUE: reject: CONNECT from [{}]:{}: too many connections", addr, port);
        drop_session(s, "421 4.7.0 Error: too many connections\r\n");
        return;
    }
    if (st.post_queue_limit > 0 && g_post_queue >= st.post_queue_limit) {
        util::msg_info("NOQUEUE: reject: CONNECT from [{}]:{}: all server ports busy", addr, port);
        drop_session(s, "421 4.3.2 All server ports are busy\r\n");
        return;
    }
    if (acl_configured()) {
        switch (acl_eval(addr)) {
        case AclResult::reject:
            util::msg_info("{}LISTED [{}]:{}", st.respectful_logging ? "DENY" : "BLACK", addr, port);
            note_compat_logging(s);
            s.flags |= kDenylistFail;
            switch (st.denylist_action) {
            case Action::drop:
                drop_session(s, "521 5.3.2 Service currently unavailable\r\n");
                return;
            case Action::enforce:
                s.rcpt_reply = "550 5.3.2 Service currently unavailable\r\n";
                s.flags |= kNoForward;
                break;
            case Action::ignore:
                s.flags &= ~kDenylistFail;
                break;
            }
            break;
        case AclResult::permit:
            util::msg_info("{}LISTED [{}]:{}", st.respectful_logging ? "ALLOW" : "WHITE", addr, port);
            note_compat_logging(s);
            conclude(s);
            return;
        default:
            break;
        }
    }
    long now = static_cast<long>(std::time(nullptr));
    std::optional<std::string> stamps;
    if ((s.flags & kAnyFail) == 0 && s.info->concurrency == 1 && (stamps = cache_lookup(addr))) {
        unsigned saved = s.flags;
        parse_stamps(*s.info, *stamps);
        s.flags = todo_tests(*s.info, now) | saved;
        if ((s.flags & (kAnyTodo | kAnyFail)) == 0) {
            util::msg_info("PASS OLD [{}]:{}", addr, port);
            conclude(s);
            return;
        }
    } else if (s.info->concurrency > 1) {
        unsigned saved = s.flags;
        s.flags = todo_tests(*s.info, now) | saved;
    } else {
        unsigned saved = s.flags;
        for (long& e : s.info->expire) e = kStampNew;
        s.flags = todo_tests(*s.info, kStampNew + 1) | saved;
    }
    // Not on a listed interface (a backup MX address): tests, no pass.
    if (!allowlist_interface(s.server_addr)) {
        s.flags |= kAllowlistFail | kNoForward;
        util::msg_info("{}LIST VETO [{}]:{}", st.respectful_logging ? "ALLOW" : "WHITE", addr, port);
        note_compat_logging(s);
    }
    if (st.pre_queue_limit > 0 && g_check_queue - g_post_queue >= st.pre_queue_limit) {
        util::msg_info("reject: connect from [{}]:{}: all screening ports busy", addr, port);
        drop_session(s, "421 4.3.2 All screening ports are busy\r\n");
        return;
    }
    if (s.flags & kEarlyTodo)
        early_tests(s);
    else if (s.flags & (kSmtpdTodo | kNoForward))
        smtpd_tests(s);
    else
        conclude(s);
}

// A new client: non-blocking from here on; its endpoints first.
void new_connection(int client_fd) {
    int fl = ::fcntl(client_fd, F_GETFL);
    if (fl >= 0) ::fcntl(client_fd, F_SETFL, fl | O_NONBLOCK);
    endpoint_lookup(client_fd, start_session);
}

}  // namespace

Settings& settings() { return g_settings; }
util::EventLoop& loop() { return ipc::server_event_loop(); }
int check_queue_length() { return g_check_queue; }
int post_queue_length() { return g_post_queue; }

Session* find_session(int id) {
    auto it = g_sessions.find(id);
    return it == g_sessions.end() ? nullptr : it->second.get();
}

void set_timer_ms(Session& s, long ms, void (*callback)(Session&)) {
    if (s.timer) loop().cancel_timer(s.timer);
    s.timer = loop().add_timer(std::chrono::milliseconds(ms), [id = s.id, callback] {
        Session* p = find_session(id);
        if (!p) return;
        p->timer = 0;
        callback(*p);
    });
}

void set_timer(Session& s, int seconds, void (*callback)(Session&)) { set_timer_ms(s, seconds * 1000L, callback); }

void clear_events(Session& s) {
    if (s.timer) loop().cancel_timer(s.timer);
    s.timer = 0;
    if (s.watching) loop().unwatch_fd(s.fd);
    s.watching = false;
}

void watch_client(Session& s, void (*on_readable)(Session&), int timeout, void (*on_timeout)(Session&)) {
    s.watching = true;
    loop().watch_fd(s.fd, [id = s.id, on_readable] {
        if (Session* p = find_session(id)) on_readable(*p);
    });
    set_timer(s, timeout, on_timeout);
}

void begin_tests(Session& s, const char* name) {
    s.test_name = name;
    ::gettimeofday(&s.start, nullptr);
}

std::string format_delta(const timeval& start, long* elapsed_seconds) {
    timeval now{};
    ::gettimeofday(&now, nullptr);
    long sec = now.tv_sec - start.tv_sec;
    long usec = now.tv_usec - start.tv_usec;
    if (usec < 0) {
        usec += 1000000;
        sec -= 1;
    }
    if (sec < 0) sec = usec = 0;
    if (elapsed_seconds) *elapsed_seconds = sec;
    // The reference's format_tv with two significant digits.
    static const int pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    constexpr long kMillion = 1000000;
    int max_dig = g_settings.delay_resolution < 0 ? 0 : g_settings.delay_resolution;
    long ures = kMillion / pow10[max_dig];
    long wid = pow10[2];
    if (ures < kMillion) {
        if (sec > 0) {
            for (long n = 1; sec >= n && n <= wid / 10; n *= 10) ures = (kMillion / wid) * n;
        } else {
            while (usec >= wid * ures) ures *= 10;
        }
    }
    if (ures > 1) {
        usec += ures / 2;
        if (usec >= kMillion) {
            sec += 1;
            usec -= kMillion;
        }
    }
    std::string out = std::to_string(sec);
    if (usec >= ures) {
        out += '.';
        long rem = usec;
        for (long n = kMillion / 10; rem >= ures && n > 0; n /= 10) {
            out += static_cast<char>('0' + rem / n);
            rem %= n;
        }
    }
    return out;
}

std::string escape_text(std::string_view bytes) { return util::escape_bytes(bytes); }

bool send_reply(Session& s, std::string_view text) {
    std::size_t start = s.send_buf.size();
    s.send_buf.append(text);
    if (g_settings.soft_bounce && text.size() > 4) {
        if (text[0] == '5') s.send_buf[start] = '4';
        if (text[4] == '5') s.send_buf[start + 4] = '4';
    }
    append_footer(s.send_buf, start, text, s);   // postscreen_footer.cpp
    ssize_t n = ::send(s.fd, s.send_buf.data(), s.send_buf.size(), MSG_NOSIGNAL);
    if (n > 0) s.send_buf.erase(0, static_cast<std::size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EPIPE && errno != ECONNRESET)
        util::msg_warn("write [{}]:{}: {}", s.addr, s.port, std::strerror(errno));
    return !(n < 0 && errno != EAGAIN);
}

void conclude(Session& s) {
    if (s.flags & kAnyFail) s.flags &= ~kAnyPass;
    if ((s.flags & kAnyPass) != 0 && (s.flags & kAnyPass) == todo_to_pass(s.flags & kAnyTodo))
        util::msg_info("PASS {} [{}]:{}", (s.flags & kNew) == 0 || s.info->pass_new_count++ > 0 ? "OLD" : "NEW",
                       s.addr, s.port);
    if ((s.flags & kAnyPass) != 0) cache_update(s.addr, print_stamps(*s.info));
    if ((s.flags & kNoForward) == 0) {
        send_socket(s);
    } else {
        if ((s.flags & kHangup) == 0) send_reply(s, s.final_reply);
        util::msg_info("DISCONNECT [{}]:{}", s.addr, s.port);
        free_session(s);
    }
}

void hangup_event(Session& s) {
    s.flags |= kHangup;
    util::msg_info("HANGUP after {} from [{}]:{} in {}", format_delta(s.start, nullptr), s.addr, s.port, s.test_name);
    s.flags |= kNoForward;
    conclude(s);
}

void drop_session(Session& s, std::string reply) {
    s.flags |= kNoForward;
    s.final_reply = std::move(reply);
    conclude(s);
}

void free_session(Session& s) {
    clear_events(s);
    starttls_forget(s);
    dnsbl_forget(s);
    if (--s.info->concurrency == 0) g_clients.erase(s.addr);
    if (s.fd >= 0) {
        ::close(s.fd);
        --g_check_queue;
    }
    if (s.server_fd >= 0) {
        loop().unwatch_fd(s.server_fd);
        ::close(s.server_fd);
        --g_post_queue;
    }
    g_sessions.erase(s.id);
}

}  // namespace pf::postscreen

int main(int argc, char** argv) {
    using namespace pf;
    ipc::ServerHooks hooks;
    hooks.takes_args = true;  // the reference ignores postscreen's master.cf arguments
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        ::setsid();
        postscreen::read_settings(ctx.config);
        postscreen::endpoint_init(ctx.config);
        postscreen::interfaces_init(ctx.config);
        postscreen::footer_init(ctx.config);
        postscreen::acl_init(ctx.config.get("postscreen_access_list"), ctx.config.get("mynetworks"));
        if (!postscreen::g_settings.cache_name.empty()) {
            util::run_as_user_if_root(ctx.config.get("mail_owner"), [] { postscreen::cache_open(); });
        }
    };
    hooks.post_init = [](ipc::ServerContext& ctx) {
        // One process serves every connection for as long as master runs it.
        ctx.max_use = 0;
        postscreen::cache_start_cleanup();
    };
    hooks.on_idle = [](ipc::ServerContext&) {};
    // A rebuilt table (dict/dict_watch.h), checked at most once a second:
    // new connections go to a fresh process, this one finishes its
    // sessions in the background, as the reference's.
    hooks.pre_accept = [](ipc::ServerContext&) {
        static std::time_t last_check = 0;
        std::time_t now = std::time(nullptr);
        if (now < last_check + 1) return;
        if (auto table = dict::changed_table()) {
            util::msg_info("table {} has changed - finishing in the background", *table);
            ipc::server_drain([] { return !postscreen::g_sessions.empty(); });
        } else {
            last_check = now;
        }
    };
    return ipc::run_multi_server(argc, argv, std::move(hooks), [](ipc::ServerContext&, int fd) {
        // The skeleton closes its descriptor when we return: keep a copy.
        int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (own >= 0) postscreen::new_connection(own);
        return false;
    });
}
