// smtp-sink(1) settings: the command table (which SMTP commands are on,
// logged, rejected, dropped or delayed) and the program-wide switches its
// options set, as the reference 3.7.11 smtp-sink takes them. Also the small
// text helpers its options need (command lists, -W specs, -S escapes).
//
// Trust: option values come from the command line of whoever runs the test
// tool; malformed values are fatal, as in the reference.
#pragma once
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace pf::smtp_sink {

// What a command does besides its normal reply (the reference's flags).
enum CommandFlag : unsigned {
    kEnable = 1u << 0,      // recognised at all (else "500 5.5.1 unknown")
    kSyslog = 1u << 1,      // -s: log it
    kHardErr = 1u << 2,     // -f: hard (5xx) reply
    kSoftErr = 1u << 3,     // -r: soft (4xx) reply
    kDisconnect = 1u << 4,  // -q: hang up without a reply
    kClose = 1u << 5,       // -Q: 421 and hang up
};

enum class Cmd { connect, helo, ehlo, lhlo, xclient, xforward, auth, mail, rcpt, data, dot, rset, noop, vrfy, quit };
inline constexpr std::size_t kCommandCount = 15;

struct CommandSpec {
    const char* name;
    Cmd cmd;
    unsigned flags;
    int delay;       // seconds (-w, -W); 0: answer at once
    int delay_odds;  // -W command:delay:odds
};

struct SinkConfig {
    std::array<CommandSpec, kCommandCount> commands{{
        {"connect", Cmd::connect, 0, 0, 0},
        {"helo", Cmd::helo, 0, 0, 0},
        {"ehlo", Cmd::ehlo, 0, 0, 0},
        {"lhlo", Cmd::lhlo, 0, 0, 0},
        {"xclient", Cmd::xclient, kEnable, 0, 0},
        {"xforward", Cmd::xforward, kEnable, 0, 0},
        {"auth", Cmd::auth, kEnable, 0, 0},
        {"mail", Cmd::mail, kEnable, 0, 0},
        {"rcpt", Cmd::rcpt, kEnable, 0, 0},
        {"data", Cmd::data, kEnable, 0, 0},
        {".", Cmd::dot, kEnable, 0, 0},
        {"rset", Cmd::rset, kEnable, 0, 0},
        {"noop", Cmd::noop, kEnable, 0, 0},
        {"vrfy", Cmd::vrfy, kEnable, 0, 0},
        {"quit", Cmd::quit, kEnable, 0, 0},
    }};
    int timeout = 100;          // -t
    int max_line_length = 2048; // command line limit
    std::string hostname = "smtp-sink";
    std::string soft_reply = "450 4.3.0 Error: command failed";
    std::string hard_reply = "500 5.3.0 Error: command failed";
    bool show_count = false;
    int max_quit_count = 0;      // -n
    int max_msg_quit_count = 0;  // -M
    bool disable_pipelining = false;
    bool disable_8bitmime = false;
    bool disable_esmtp = false;
    bool enable_lmtp = false;
    bool pretend_pix = false;
    bool disable_saslauth = false;
    bool disable_xclient = false;
    bool disable_xforward = false;
    bool disable_enh_status = false;
    bool disable_dsn = false;
    int max_client_count = 256;  // -m
    int abort_delay = -1;        // -A
    int data_read_delay = 0;     // -H
    std::string single_template; // -d (or -D's template, see shared)
    bool shared = false;         // -D: append to one file per template expansion
    bool dump = false;           // -d or -D given
    bool have_start_string = false;
    std::string start_string;    // -S, unescaped
    int window_size = 0;         // -T
};

// Index of a command name (case-insensitive), or -1.
int find_command(const SinkConfig& cfg, std::string_view name);
// Sets (or clears) flags on each command of a list separated by commas and
// white space; an unknown name is fatal ("unknown command: NAME").
void set_commands_flags(SinkConfig& cfg, std::string_view list, unsigned flags);
void clear_command_flags(SinkConfig& cfg, std::string_view name, unsigned flags);
void set_command_delay(SinkConfig& cfg, std::string_view name, int delay, int odds);
// -W command:delay[:odds]
void set_command_delay_arg(SinkConfig& cfg, std::string_view arg);
// The reference's C-escape decoding (\a \b \f \n \r \t \v \ddd \\, \c -> c).
std::string unescape(std::string_view text);
// The reference's atoi: leading blanks, optional sign, digits; 0 otherwise.
int c_atoi(std::string_view text);

}  // namespace pf::smtp_sink
