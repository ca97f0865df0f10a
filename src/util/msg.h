// Diagnostics in the reference's format: "<argv0>: warning: text",
// "<argv0>: fatal: text" (exit 1 after a one-second pause, as the
// reference). The program name is argv[0] exactly as the reference prints
// it, not its basename.
#pragma once

#include <fmt/core.h>

#include <functional>
#include <string>
#include <string_view>

namespace pf::util {

void msg_set_program(std::string_view argv0);
const std::string& msg_program();

void msg_warn_text(std::string_view text);
void msg_info_text(std::string_view text);
// "program: error: text" (the reference's msg_error; the program carries on).
void msg_error_text(std::string_view text);
[[noreturn]] void msg_fatal_text(std::string_view text);
[[noreturn]] void msg_panic_text(std::string_view text);

template <typename... Args>
void msg_warn(fmt::format_string<Args...> f, Args&&... args) {
    msg_warn_text(fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void msg_error(fmt::format_string<Args...> f, Args&&... args) {
    msg_error_text(fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void msg_info(fmt::format_string<Args...> f, Args&&... args) {
    msg_info_text(fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void msg_fatal(fmt::format_string<Args...> f, Args&&... args) {
    msg_fatal_text(fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void msg_panic(fmt::format_string<Args...> f, Args&&... args) {
    msg_panic_text(fmt::format(f, std::forward<Args>(args)...));
}

// Thrown by msg_fatal when a test installs a fatal hook; otherwise fatal exits.
struct FatalError {
    std::string text;
};
// In unit tests, make msg_fatal throw FatalError instead of exiting.
void msg_fatal_throws(bool on);
// msg_fatal and msg_panic wait one second before exiting, as the
// reference's do (default on); off for a program that must die at once.
void msg_set_fatal_sleep(bool on);
// Verbose logging level (-v); messages at this level go out as "info".
extern int msg_verbose;

// Discard warnings and informational messages (fuzzing harnesses).
void msg_set_quiet(bool on);
// With UTF-8 support on (smtputf8_enable), diagnostics keep well-formed
// UTF-8 sequences instead of showing their bytes as '?'.
void msg_set_utf8(bool on);

// Where messages go besides stderr: daemons and commands that log install a
// sink (syslog, or the postlogd client; ipc/maillog_client.h). The sink gets
// the severity and the text without the "program: severity: " prefix.
enum class MsgLevel { info, warning, error, fatal, panic };
using MsgSink = std::function<void(MsgLevel, std::string_view)>;
void msg_set_sink(MsgSink sink);
// Writing to stderr is on by default; daemons turn it off unless stderr is
// a terminal (as the reference).
void msg_set_stderr(bool on);
bool msg_stderr_enabled();

}  // namespace pf::util
