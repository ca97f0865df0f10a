// Diagnostics to stderr in the reference's "program: severity: text" form.
#include "util/msg.h"

#include "util/utf8.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

namespace pf::util {

int msg_verbose = 0;

namespace {
std::string g_program = "postfix";
bool g_fatal_throws = false;
bool g_fatal_sleep = true;
bool g_quiet = false;
bool g_utf8 = false;
bool g_stderr = true;
bool g_in_sink = false;
MsgSink g_sink;

void emit(std::string_view severity, std::string_view text, MsgLevel level) {
    if (g_quiet) return;
    if (g_sink && !g_in_sink) {
        // A sink that reports its own trouble through msg_* does not loop.
        g_in_sink = true;
        g_sink(level, printable(text, g_utf8));
        g_in_sink = false;
    }
    if (!g_stderr) return;
    std::fflush(stdout);
    std::string line = g_program;
    line += ": ";
    if (!severity.empty()) {
        line += severity;
        line += ": ";
    }
    // Bytes outside printable ASCII show as '?', as in the reference; with
    // UTF-8 support on, well-formed UTF-8 sequences stay.
    line += printable(text, g_utf8);
    line += '\n';
    (void)!::write(2, line.data(), line.size());
}
}  // namespace

void msg_set_program(std::string_view argv0) { g_program = std::string(argv0); }
const std::string& msg_program() { return g_program; }
void msg_fatal_throws(bool on) { g_fatal_throws = on; }
void msg_set_fatal_sleep(bool on) { g_fatal_sleep = on; }
void msg_set_quiet(bool on) { g_quiet = on; }
void msg_set_utf8(bool on) { g_utf8 = on; }

void msg_set_sink(MsgSink sink) { g_sink = std::move(sink); }
void msg_set_stderr(bool on) { g_stderr = on; }
bool msg_stderr_enabled() { return g_stderr; }

void msg_warn_text(std::string_view text) { emit("warning", text, MsgLevel::warning); }
void msg_info_text(std::string_view text) { emit("", text, MsgLevel::info); }
void msg_error_text(std::string_view text) { emit("error", text, MsgLevel::error); }

namespace {
// One second, unless turned off (msg_set_fatal_sleep): a daemon's client
// stays connected meanwhile, and master does not respawn a broken service
// in a tight loop. A signal that has a handler (a watchdog alarm, SIGCHLD)
// does not cut the pause short.
void pause_before_exit() {
    if (!g_fatal_sleep) return;
    struct timespec left{1, 0};
    while (::nanosleep(&left, &left) == -1 && errno == EINTR) {}
}
}  // namespace

void msg_fatal_text(std::string_view text) {
    if (g_fatal_throws) throw FatalError{std::string(text)};
    emit("fatal", text, MsgLevel::fatal);
    std::fflush(stdout);
    // Every reference program (daemons and commands alike) waits one second
    // after a fatal error before it exits.
    pause_before_exit();
    std::exit(1);
}

void msg_panic_text(std::string_view text) {
    if (g_fatal_throws) throw FatalError{std::string(text)};
    emit("panic", text, MsgLevel::panic);
    // The reference pauses after a panic too, then dumps core.
    pause_before_exit();
    std::abort();
}

}  // namespace pf::util
