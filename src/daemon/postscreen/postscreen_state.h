// postscreen(8)'s shared state: the settings read from main.cf, the
// per-client information shared by concurrent sessions of one address
// (connection count and the expiry time of each test), the per-session
// state with its test flags, and the functions the parts of the daemon
// call on one another. The flag layout and the test order are the
// reference's (four flags per test: fail, pass, todo, done/skip), because
// the cache entries that outlive a swap are built from them.
//
// Trust: sessions hold what remote clients sent; nothing here parses it.
#pragma once

#include "daemon/postscreen/postscreen_dnsbl_site.h"
#include "config/config.h"
#include "dict/dict.h"
#include "util/event_loop.h"

#include <sys/time.h>

#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pf::postscreen {

// Test indexes, as the cache entry orders them.
enum TestIndex { kPregr = 0, kDnsbl = 1, kPipel = 2, kNsmtp = 3, kBarlf = 4, kTestCount = 5 };

inline constexpr long kStampNew = 0;       // never passed
inline constexpr long kStampDisabled = 1;  // never passed, test disabled
inline constexpr long kStampInvalid = -1;  // not cached yet

// Session flags.
inline constexpr unsigned kNoForward = 1u << 0;
inline constexpr unsigned kUsingTls = 1u << 1;   // STARTTLS done: s.fd is tlsproxy's plaintext end
inline constexpr unsigned kNew = 1u << 3;
inline constexpr unsigned kDenylistFail = 1u << 4;
inline constexpr unsigned kHangup = 1u << 5;
inline constexpr unsigned kSmtpdX21 = 1u << 6;
inline constexpr unsigned kAllowlistFail = 1u << 7;
constexpr unsigned test_flag(int index, int shift) { return 1u << (8 + 4 * index + shift); }
constexpr unsigned fail_flag(int i) { return test_flag(i, 0); }
constexpr unsigned pass_flag(int i) { return test_flag(i, 1); }
constexpr unsigned todo_flag(int i) { return test_flag(i, 2); }
constexpr unsigned done_flag(int i) { return test_flag(i, 3); }
constexpr unsigned todo_to_pass(unsigned f) { return f >> 1; }
constexpr unsigned todo_to_done(unsigned f) { return f << 1; }

inline constexpr unsigned kEarlyTodo = todo_flag(kPregr) | todo_flag(kDnsbl);
inline constexpr unsigned kEarlyDone = done_flag(kPregr) | done_flag(kDnsbl);
inline constexpr unsigned kEarlyPass = pass_flag(kPregr) | pass_flag(kDnsbl);
inline constexpr unsigned kEarlyFail = fail_flag(kPregr) | fail_flag(kDnsbl);
inline constexpr unsigned kSmtpdTodo = todo_flag(kPipel) | todo_flag(kNsmtp) | todo_flag(kBarlf);
inline constexpr unsigned kSmtpdPass = pass_flag(kPipel) | pass_flag(kNsmtp) | pass_flag(kBarlf);
inline constexpr unsigned kSmtpdFail = fail_flag(kPipel) | fail_flag(kNsmtp) | fail_flag(kBarlf);
inline constexpr unsigned kAnyFail = kDenylistFail | kEarlyFail | kSmtpdFail | kAllowlistFail;
inline constexpr unsigned kAnyPass = kEarlyPass | kSmtpdPass;
inline constexpr unsigned kAnyTodo = kEarlyTodo | kSmtpdTodo;

enum class Action { ignore, enforce, drop };

struct Settings {
    std::string myhostname;
    std::string smtpd_banner;
    std::string teaser;             // "220-<postscreen_greet_banner>\r\n" or empty
    int greet_wait = 6;
    int greet_ttl = 86400;
    Action greet_action = Action::ignore;
    Action denylist_action = Action::ignore;
    Action dnsbl_action = Action::ignore;
    // The deep protocol tests after the greeting (index kPipel, kNsmtp, kBarlf).
    bool deep_enable[kTestCount] = {};
    Action deep_action[kTestCount] = {};
    int deep_ttl[kTestCount] = {};
    int min_ttl = 1;
    unsigned discard_ehlo_mask = 0;                           // postscreen_discard_ehlo_keywords (mail/ehlo_mask.h)
    std::vector<std::string> forbidden_words;                 // postscreen_forbidden_commands
    std::vector<std::shared_ptr<dict::Dict>> forbidden_tables;
    int dnsbl_threshold = 1;
    int dnsbl_allowlist_threshold = 0;
    int dnsbl_min_ttl = 60;
    int dnsbl_max_ttl = 3600;
    int dnsbl_timeout = 10;
    std::vector<DnsblSite> dnsbl_sites;
    std::map<std::string, std::string> dnsbl_display;  // postscreen_dnsbl_reply_map answers
    // Relative to the working directory, which is queue_directory (or the
    // chroot jail that is its root).
    std::string dnsblog_service;    // "private/dnsblog"
    std::string smtpd_service;      // "private/smtpd"
    std::string tlsproxy_service;   // "private/tlsproxy"
    // STARTTLS in the built-in engine (postscreen_tls_security_level, or
    // the legacy postscreen_use_tls / postscreen_enforce_tls).
    bool use_tls = false;
    bool enforce_tls = false;
    int post_queue_limit = 100;
    int pre_queue_limit = 100;
    int client_connection_limit = 50;
    int command_time_limit = 300;
    int command_count_limit = 20;
    int line_length_limit = 2048;
    bool respectful_logging = true;
    bool warn_respectful_logging = false;  // the pre-3.6 default is in use: note it once
    bool helo_required = false;
    bool disable_vrfy = false;
    bool soft_bounce = false;
    bool smtputf8 = true;
    long message_size_limit = 10240000;
    int delay_resolution = 2;
    int cache_retention = 7 * 86400;
    int cache_cleanup_interval = 12 * 3600;
    std::string cache_name;
};

struct ClientInfo {
    int concurrency = 0;
    int pass_new_count = 0;
    long expire[kTestCount] = {kStampInvalid, kStampInvalid, kStampInvalid, kStampInvalid, kStampInvalid};
};

struct Session {
    int id = 0;
    int fd = -1;            // the remote client
    int server_fd = -1;     // the connection to smtpd while handing off
    std::string addr, port, server_addr, server_port;
    unsigned flags = 0;
    ClientInfo* info = nullptr;
    std::string test_name = "TEST NAME HERE";
    timeval start{};
    std::string final_reply = "421 4.3.2 Service currently unavailable\r\n";
    std::string rcpt_reply = "450 4.3.2 Service currently unavailable\r\n";
    std::string send_buf;
    util::EventLoop::TimerId timer = 0;
    bool watching = false;
    // DNSBL
    int dnsbl_score = 0;
    bool have_score = false;
    std::string dnsbl_name;
    int dnsbl_ttl = 0;
    // dummy SMTP engine
    std::string cmd_buffer;
    int read_state = 0;
    std::string helo_name;
    bool have_helo = false;
    std::string sender;
    bool have_sender = false;
    std::string protocol = "SMTP";
    unsigned ehlo_discard_mask = 0;  // set by EHLO (as the reference, nothing before it)
    std::string where = "CONNECT";
    std::string inbuf;      // received, not yet read as commands
    int command_count = 0;
    // STARTTLS hand-off to tlsproxy in progress (postscreen_starttls.cpp):
    // the request connection, and the client's commands wait meanwhile.
    int tlsproxy_fd = -1;
    std::string tlsproxy_buf;
    bool suspended = false;
};

// Globals of the one process.
Settings& settings();
util::EventLoop& loop();
Session* find_session(int id);
int check_queue_length();
int post_queue_length();

// Event plumbing per session: one timer and one read watch at a time.
void set_timer(Session& s, int seconds, void (*callback)(Session&));
void set_timer_ms(Session& s, long ms, void (*callback)(Session&));
void clear_events(Session& s);
void watch_client(Session& s, void (*on_readable)(Session&), int timeout, void (*on_timeout)(Session&));

// postscreen.cpp
void begin_tests(Session& s, const char* name);
bool send_reply(Session& s, std::string_view text);  // false: the client is gone
void conclude(Session& s);
void hangup_event(Session& s);
void drop_session(Session& s, std::string reply);
void free_session(Session& s);
std::string format_delta(const timeval& start, long* elapsed_seconds);
std::string escape_text(std::string_view bytes);

// postscreen_early.cpp
void early_tests(Session& s);
void early_dnsbl_done(Session& s);

// postscreen_smtpd.cpp
void smtpd_tests(Session& s);

// postscreen_starttls.cpp: hands the client to tlsproxy; resume is called
// once it is done (kUsingTls set) or failed (the 454 reply already sent).
void starttls_open(Session& s, void (*resume)(Session&));
void starttls_forget(Session& s);

// postscreen_dnsbl.cpp
void dnsbl_request(Session& s);
// Takes this session's share of the score (the reference's destructive read).
int dnsbl_retrieve(Session& s, std::string& name, int& ttl);
void dnsbl_forget(Session& s);

// postscreen_cache.cpp
void parse_stamps(ClientInfo& info, std::string_view text);
unsigned todo_tests(const ClientInfo& info, long now);
std::string print_stamps(ClientInfo& info);
bool cache_open();
std::optional<std::string> cache_lookup(const std::string& addr);
void cache_update(const std::string& addr, const std::string& value);
void cache_start_cleanup();

// postscreen_endpoint.cpp: the client's and server's addresses, from the
// socket or from an upstream proxy's header (postscreen_upstream_proxy_*).
struct Endpoints {
    std::string addr, port, server_addr, server_port;
};
void endpoint_init(const config::Config& cfg);
bool local_endpoints(int fd, Endpoints& ep);
// Calls done(fd, endpoints) now or later; on failure replies 421 and
// closes fd itself.
void endpoint_lookup(int fd, void (*done)(int fd, const Endpoints&));

// postscreen_interfaces.cpp: postscreen_allowlist_interfaces.
void interfaces_init(const config::Config& cfg);
bool allowlist_interface(const std::string& server_addr);

// postscreen_ehlo_discard.cpp: postscreen_discard_ehlo_keywords and
// postscreen_discard_ehlo_keyword_address_maps. ehlo_discard_for() sets
// s.ehlo_discard_mask for this EHLO and returns it.
void ehlo_discard_init(const config::Config& cfg);
unsigned ehlo_discard_for(Session& s);

// postscreen_command_filter.cpp: postscreen_command_filter, applied to
// each complete command line before it is parsed.
void command_filter_init(const config::Config& cfg);
void command_filter_apply(const Session& s, std::string& line);

// postscreen_footer.cpp: postscreen_reject_footer(_maps) on 4xx/5xx
// replies; text is the reply as sent (CRLF at the end), appended to buf at
// start.
void footer_init(const config::Config& cfg);
void append_footer(std::string& buf, std::size_t start, std::string_view text, const Session& s);

// postscreen_acl.cpp
enum class AclResult { permit, reject, dunno, error };
void acl_init(const std::string& access_list, const std::string& mynetworks);
AclResult acl_eval(const std::string& addr);
bool acl_configured();

}  // namespace pf::postscreen
