// Delivery command execution and result mapping (command_runner.h), shared
// by pipe(8) and local(8).
#include "ipc/command_runner.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/unique_fd.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::ipc {

namespace {

constexpr std::string_view kDefaultPath = "/usr/bin:/bin";
constexpr int kTempFail = 75;

struct SysExitEntry {
    int code;
    const char* status;
    const char* text;
};

constexpr SysExitEntry kSysExits[] = {
    {64, "5.3.0", "command line usage error"},
    {65, "5.6.0", "data format error"},
    {66, "5.3.0", "cannot open input"},
    {67, "5.1.1", "user unknown"},
    {68, "5.1.2", "host name unknown"},
    {69, "5.3.0", "service unavailable"},
    {70, "5.3.0", "internal software error"},
    {71, "4.3.0", "system resource problem"},
    {72, "5.3.0", "critical OS file missing"},
    {73, "5.2.0", "can't create user output file"},
    {74, "5.3.0", "input/output error"},
    {75, "4.3.0", "temporary failure"},
    {76, "5.5.0", "remote error in protocol"},
    {77, "5.7.0", "permission denied"},
    {78, "5.3.5", "local configuration error"},
};

bool is_sys_exit(int code) { return code >= 64 && code <= 78; }

using Fd = util::UniqueFd;

// Waits for fd to be ready (events) at most seconds; false on timeout.
bool wait_fd(int fd, short events, int seconds) {
    struct pollfd p {fd, events, 0};
    int ms = seconds > 0 ? seconds * 1000 : 0;
    for (;;) {
        int n = ::poll(&p, 1, ms);
        if (n < 0 && errno == EINTR) continue;
        return n > 0;
    }
}

[[noreturn]] void child_fail(const std::string& text) {
    // The reference prefixes its process name (argv[0]'s basename).
    std::string program = util::msg_program();
    if (auto slash = program.rfind('/'); slash != std::string::npos) program.erase(0, slash + 1);
    std::string line = fmt::format("{}: fatal: {}\n", program, text);
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
    ::_exit(kTempFail);
}

[[noreturn]] void exec_command(const CommandSpec& spec) {
    std::vector<char*> argv;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string name = spec.argv.empty() ? std::string() : spec.argv[0];
    int saved = ENOENT;
    if (name.find('/') != std::string::npos) {
        ::execve(name.c_str(), argv.data(), envp.data());
        saved = errno;
    } else if (!name.empty()) {
        // The search execvp makes with the command's PATH; no shell fallback.
        bool denied = false;
        std::string_view path = kDefaultPath;
        while (!path.empty()) {
            auto colon = path.find(':');
            std::string_view dir = path.substr(0, colon);
            path = colon == std::string_view::npos ? std::string_view{} : path.substr(colon + 1);
            std::string full = fmt::format("{}/{}", dir.empty() ? "." : dir, name);
            ::execve(full.c_str(), argv.data(), envp.data());
            if (errno == EACCES) denied = true;
            else if (errno != ENOENT && errno != ENOTDIR) {
                saved = errno;
                break;
            }
            saved = denied ? EACCES : ENOENT;
        }
    }
    child_fail(fmt::format("{}execvp {}: {}", spec.exec_failure_prefix, name, std::strerror(saved)));
}

// Kills the command's process group (or the command, when the group is
// gone). An agent that works with other effective ids (local(8): those of
// mail_owner) takes the command's ids for the kill.
void kill_command(pid_t pid, uid_t uid, gid_t gid) {
    const uid_t saved_uid = ::geteuid();
    const gid_t saved_gid = ::getegid();
    const bool switch_ids = ::getuid() == 0 && saved_uid != 0;
    auto ignore = [](int) {};
    if (switch_ids) {
        ignore(::seteuid(0));
        ignore(::setegid(gid));
        ignore(::seteuid(uid));
    }
    if (::kill(-pid, SIGKILL) < 0 && ::kill(pid, SIGKILL) < 0)
        util::msg_warn("cannot kill process (group) {}: {}", static_cast<unsigned long>(pid), std::strerror(errno));
    if (switch_ids) {
        ignore(::seteuid(0));
        ignore(::setegid(saved_gid));
        ignore(::seteuid(saved_uid));
    }
}

// waitpid with a time limit, through a pidfd (no polling loop).
pid_t timed_waitpid(pid_t pid, int* status, int seconds, bool& timed_out) {
    timed_out = false;
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
        bool ready = wait_fd(pidfd, POLLIN, seconds);
        ::close(pidfd);
        if (!ready) {
            timed_out = true;
            return -1;
        }
    }
    for (;;) {
        pid_t n = ::waitpid(pid, status, 0);
        if (n < 0 && errno == EINTR) continue;
        return n;
    }
}

}  // namespace

std::vector<std::string> export_environment_list(const config::Config& config) {
    std::vector<std::string> out;
    const std::string value = config.get("export_environment");  // outlives the words
    for (auto word : util::split_tokens(value, " \t\r\n,")) out.emplace_back(word);
    return out;
}

int command_time_limit_for(const config::Config& config, const std::string& service) {
    std::string name = service + "_time_limit";
    std::string value = config.raw_value(name) ? config.get(name) : config.get("command_time_limit");
    auto t = config::parse_time_value(value, 's');
    if (!t || *t < 1) util::msg_fatal("invalid {} parameter value {}", name, value);
    return *t;
}

std::vector<std::string> command_environment(const std::vector<std::string>& export_list, char** environ_ptr,
                                             const std::vector<std::pair<std::string, std::string>>& extra) {
    std::vector<std::pair<std::string, std::string>> vars;
    auto set = [&vars](std::string name, std::string value) {
        for (auto& v : vars)
            if (v.first == name) {
                v.second = std::move(value);
                return;
            }
        vars.emplace_back(std::move(name), std::move(value));
    };
    for (const auto& item : export_list) {
        if (auto eq = item.find('='); eq != std::string::npos) {
            set(item.substr(0, eq), item.substr(eq + 1));
            continue;
        }
        for (char** e = environ_ptr; e && *e; ++e) {
            std::string_view entry = *e;
            if (entry.size() > item.size() && entry.substr(0, item.size()) == item && entry[item.size()] == '=') {
                set(item, std::string(entry.substr(item.size() + 1)));
                break;
            }
        }
    }
    set("PATH", std::string(kDefaultPath));
    for (const auto& [name, value] : extra) set(name, value);
    std::vector<std::string> out;
    for (auto& [name, value] : vars) out.push_back(name + "=" + value);
    return out;
}

std::string clean_command_output(std::string_view raw) {
    std::string out;
    for (char c : raw) {
        if (c == 0) break;
        unsigned char u = static_cast<unsigned char>(c);
        if (c == '\t' || c == '\n')
            out.push_back(' ');
        else if (u < 32 || u >= 127)
            out.push_back('_');
        else
            out.push_back(c);
    }
    return out;
}

SysExit sys_exit_detail(int code) {
    for (const auto& e : kSysExits)
        if (e.code == code) return SysExit{e.status, e.text};
    return SysExit{"5.3.0", fmt::format("unknown mail system error {}", code)};
}

CommandOutcome map_command_result(const CommandRun& run, const std::string& command) {
    CommandOutcome out;
    const bool has_output = !run.output.empty();
    const std::string text = clean_command_output(run.output);
    const std::string with_output = has_output ? ". Command output: " + text : std::string();
    auto unix_dsn = [](std::string status, std::string dtext, std::string reason) {
        Dsn d = Dsn::simple(std::move(status), std::move(reason));
        d.dtype = "x-unix";
        d.dtext = std::move(dtext);
        return d;
    };
    if (run.fork_failed) {
        out.status = CommandStatus::defer;
        out.dsn = unix_dsn("4.3.0", sys_exit_detail(71).text,
                           fmt::format("Delivery failed: {}", std::strerror(run.fork_errno)));
        return out;
    }
    if (run.timed_out) {
        out.status = CommandStatus::bounce;
        out.dsn = unix_dsn("5.3.0", has_output ? text : sys_exit_detail(70).text,
                           fmt::format("Command time limit exceeded: \"{}\"{}", command, with_output));
        return out;
    }
    if (!(run.exited && run.exit_status == 0)) {
        if (run.signaled) {
            out.status = CommandStatus::defer;
            out.dsn = unix_dsn("4.3.0", has_output ? text : sys_exit_detail(70).text,
                               fmt::format("Command died with signal {}: \"{}\"{}", run.signal, command, with_output));
            return out;
        }
        if (dsn_valid(text) > 0) {
            auto split = dsn_split("5.3.0", text);
            out.dsn = unix_dsn(split.status, std::string(split.text), std::string(split.text));
            out.status = split.status[0] == '4' ? CommandStatus::defer : CommandStatus::bounce;
            return out;
        }
        SysExit sp = sys_exit_detail(run.exit_status);
        if (is_sys_exit(run.exit_status)) {
            out.dsn = unix_dsn(sp.status, has_output ? text : sp.text, sp.text + with_output);
            out.status = sp.status[0] == '4' ? CommandStatus::defer : CommandStatus::bounce;
            return out;
        }
        out.dsn = unix_dsn(sp.status, has_output ? text : sp.text,
                           fmt::format("Command died with status {}: \"{}\"{}", run.exit_status, command, with_output));
        out.status = CommandStatus::bounce;
        return out;
    }
    if (run.copy.corrupt) {
        out.status = CommandStatus::corrupt;
        return out;
    }
    if (run.copy.read_error) {
        out.dsn = unix_dsn("4.3.0", sys_exit_detail(74).text,
                           fmt::format("Command failed: error reading message: \"{}\"", command));
        out.status = CommandStatus::defer;
        return out;
    }
    if (run.copy.write_error && run.copy.write_errno != EPIPE) {
        out.dsn = unix_dsn("5.3.0", sys_exit_detail(74).text,
                           fmt::format("Command failed: error writing message: {}: \"{}\"",
                                       std::strerror(run.copy.write_errno), command));
        out.status = CommandStatus::bounce;
        return out;
    }
    out.status = CommandStatus::ok;
    out.dsn.reason = text;
    return out;
}

CommandRun run_command(const CommandSpec& spec, std::FILE* queue_file, long data_offset, const CopyEnvelope& envelope,
                       unsigned copy_flags, std::string_view eol) {
    CommandRun run;
    int in_pipe[2];
    int out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) < 0) util::msg_fatal("pipe_command: pipe: {}", std::strerror(errno));
    Fd in_read(in_pipe[0]), in_write(in_pipe[1]);
    if (::pipe2(out_pipe, O_CLOEXEC) < 0) util::msg_fatal("pipe_command: pipe: {}", std::strerror(errno));
    Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
    // As the reference: the command's output side does not block, so a
    // chatty command cannot stall while we are still writing to it.
    ::fcntl(out_write.get(), F_SETFL, ::fcntl(out_write.get(), F_GETFL) | O_NONBLOCK);
    std::fflush(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) {
        run.fork_failed = true;
        run.fork_errno = errno;
        util::msg_warn("fork: {}", std::strerror(errno));
        return run;
    }
    if (pid == 0) {
        ::signal(SIGPIPE, SIG_DFL);
        if (!spec.chroot.empty()) {
            if (::seteuid(0) < 0) child_fail(fmt::format("seteuid(0): {}", std::strerror(errno)));
            if (::chroot(spec.chroot.c_str()) < 0)
                child_fail(fmt::format("chroot({}): {}", spec.chroot, std::strerror(errno)));
            if (::chdir("/") < 0) child_fail(fmt::format("chdir(/): {}", std::strerror(errno)));
        }
        if (::getuid() == 0) {
            if (::geteuid() != 0 && ::seteuid(0) < 0) child_fail(fmt::format("seteuid(0): {}", std::strerror(errno)));
            gid_t gid = spec.gid;
            if (::setgid(gid) < 0)
                child_fail(fmt::format("setgid({}): {}", static_cast<long>(gid), std::strerror(errno)));
            if (::setgroups(1, &gid) < 0) child_fail(fmt::format("setgroups: {}", std::strerror(errno)));
            if (::setuid(spec.uid) < 0)
                child_fail(fmt::format("setuid({}): {}", static_cast<long>(spec.uid), std::strerror(errno)));
        } else if (spec.refuse_other_uid && spec.uid != ::getuid()) {
            // Unprivileged (unit tests): only our own identity is possible.
            child_fail(fmt::format("setuid({}): {}", static_cast<long>(spec.uid), std::strerror(EPERM)));
        }
        // A failed setsid is only a warning in the reference; carry on.
        (void)::setsid();
        if (::dup2(in_read.get(), STDIN_FILENO) < 0 || ::dup2(out_write.get(), STDOUT_FILENO) < 0 ||
            ::dup2(out_write.get(), STDERR_FILENO) < 0)
            child_fail(fmt::format("pipe_command: dup2: {}", std::strerror(errno)));
        if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) < 0)
            child_fail(fmt::format("cannot change directory to \"{}\" for uid={} gid={}: {}", spec.cwd,
                                   static_cast<unsigned long>(spec.uid), static_cast<unsigned long>(spec.gid),
                                   std::strerror(errno)));
        // Descriptors that libraries opened without close-on-exec (a table
        // client's database socket, say) must not reach a user's command.
        (void)::close_range(3, ~0U, 0);
        exec_command(spec);
    }

    in_read.reset();
    out_write.reset();

    const int limit = spec.time_limit;
    auto sink = [&](std::string_view data) -> bool {
        while (!data.empty()) {
            if (!wait_fd(in_write.get(), POLLOUT, run.timed_out ? 0 : limit)) {
                if (!run.timed_out) {
                    util::msg_warn("pipe_command_write: write time limit exceeded");
                    run.timed_out = true;
                }
                errno = ETIMEDOUT;
                return false;
            }
            ssize_t n = ::write(in_write.get(), data.data(), data.size());
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    };
    run.copy = copy_message(queue_file, data_offset, envelope, copy_flags, eol, sink);
    in_write.reset();

    char buf[kCommandOutputLimit];
    while (run.output.size() < kCommandOutputLimit) {
        if (!wait_fd(out_read.get(), POLLIN, run.timed_out ? 0 : limit)) {
            if (!run.timed_out) {
                util::msg_warn("pipe_command_read: read time limit exceeded");
                run.timed_out = true;
            }
            break;
        }
        ssize_t n = ::read(out_read.get(), buf, kCommandOutputLimit - run.output.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) break;
        run.output.append(buf, static_cast<std::size_t>(n));
    }
    out_read.reset();

    if (run.timed_out) kill_command(pid, spec.uid, spec.gid);
    int status = 0;
    bool wait_timed_out = false;
    pid_t waited = timed_waitpid(pid, &status, run.timed_out ? 1 : limit, wait_timed_out);
    if (wait_timed_out) {
        if (!run.timed_out) {
            util::msg_warn("pipe_command_wait_or_kill: child wait time limit exceeded");
            run.timed_out = true;
        }
        kill_command(pid, spec.uid, spec.gid);
        for (;;) {
            waited = ::waitpid(pid, &status, 0);
            if (!(waited < 0 && errno == EINTR)) break;
        }
    }
    if (waited < 0) util::msg_fatal("wait: {}", std::strerror(errno));
    if (WIFEXITED(status)) {
        run.exited = true;
        run.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        run.signaled = true;
        run.signal = WTERMSIG(status);
    }
    return run;
}

}  // namespace pf::ipc
