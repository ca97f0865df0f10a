// local(8) command execution (local_command_run.h).
#include "local_command_run.h"

#include "util/msg.h"

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

extern char** environ;

namespace pf::local {

namespace {

constexpr std::size_t kOutputLimit = 4096;
constexpr const char* kDefaultPath = "/usr/bin:/bin";
constexpr std::string_view kShellMeta = "\"'`\\$;&()|<>~{}[]*?\t\r\n";

struct SysExit {
    int code;
    const char* status;
    const char* text;
};
constexpr SysExit kSysExits[] = {
    {64, "5.3.0", "command line usage error"},  {65, "5.6.0", "data format error"},
    {66, "5.3.0", "cannot open input"},         {67, "5.1.1", "user unknown"},
    {68, "5.1.2", "host name unknown"},         {69, "5.3.0", "service unavailable"},
    {70, "5.3.0", "internal software error"},   {71, "4.3.0", "system resource problem"},
    {72, "5.3.0", "critical OS file missing"},  {73, "5.2.0", "can't create user output file"},
    {74, "5.3.0", "input/output error"},        {75, "4.3.0", "temporary failure"},
    {76, "5.5.0", "remote error in protocol"},  {77, "5.7.0", "permission denied"},
    {78, "5.3.5", "local configuration error"},
};

const SysExit* find_sys_exit(int code) {
    for (const auto& e : kSysExits)
        if (e.code == code) return &e;
    return nullptr;
}

class OwnedFd {
public:
    explicit OwnedFd(int fd = -1) : fd_(fd) {}
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    ~OwnedFd() { reset(); }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

bool wait_ready(int fd, short events, int seconds) {
    struct pollfd p {fd, events, 0};
    for (;;) {
        int n = ::poll(&p, 1, seconds > 0 ? seconds * 1000 : 0);
        if (n < 0 && errno == EINTR) continue;
        return n > 0;
    }
}

[[noreturn]] void child_fatal(const std::string& text) {
    std::string program = util::msg_program();
    if (auto slash = program.rfind('/'); slash != std::string::npos) program.erase(0, slash + 1);
    std::string line = fmt::format("{}: fatal: {}\n", program, text);
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
    ::_exit(75);
}

std::string clean(std::string_view raw) {
    std::string out;
    for (char c : raw) {
        if (c == 0) break;
        unsigned char u = static_cast<unsigned char>(c);
        out.push_back(c == '\t' || c == '\n' ? ' ' : (u < 32 || u >= 127) ? '_' : c);
    }
    return out;
}

std::vector<std::string> child_argv(const CommandJob& job) {
    std::vector<std::string> argv;
    if (!job.shell.empty()) {
        for (std::size_t i = 0; i < job.shell.size();) {
            auto start = job.shell.find_first_not_of(" \t\r\n", i);
            if (start == std::string::npos) break;
            auto end = job.shell.find_first_of(" \t\r\n", start);
            argv.push_back(job.shell.substr(start, end == std::string::npos ? std::string::npos : end - start));
            i = end == std::string::npos ? job.shell.size() : end;
        }
        argv.push_back(job.command);
    } else if (job.command.find_first_of(kShellMeta) != std::string::npos) {
        argv = {"/bin/sh", "-c", job.command};
    } else {
        for (std::size_t i = 0; i < job.command.size();) {
            auto start = job.command.find_first_not_of(" \t\r\n", i);
            if (start == std::string::npos) break;
            auto end = job.command.find_first_of(" \t\r\n", start);
            argv.push_back(job.command.substr(start, end == std::string::npos ? std::string::npos : end - start));
            i = end == std::string::npos ? job.command.size() : end;
        }
    }
    return argv;
}

std::vector<std::string> child_env(const CommandJob& job) {
    std::vector<std::pair<std::string, std::string>> vars;
    auto set = [&vars](const std::string& name, const std::string& value) {
        for (auto& v : vars)
            if (v.first == name) {
                v.second = value;
                return;
            }
        vars.emplace_back(name, value);
    };
    for (const auto& name : job.export_names) {
        if (auto eq = name.find('='); eq != std::string::npos) {
            set(name.substr(0, eq), name.substr(eq + 1));
            continue;
        }
        for (char** e = environ; e && *e; ++e) {
            std::string_view entry = *e;
            if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') {
                set(name, std::string(entry.substr(name.size() + 1)));
                break;
            }
        }
    }
    set("PATH", kDefaultPath);
    for (const auto& [name, value] : job.env) set(name, value);
    std::vector<std::string> out;
    for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
    return out;
}

void exec_child(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string& name = args.empty() ? std::string() : args[0];
    int saved = ENOENT;
    if (name.find('/') != std::string::npos) {
        ::execve(name.c_str(), argv.data(), envp.data());
        saved = errno;
    } else if (!name.empty()) {
        bool denied = false;
        std::string_view path = kDefaultPath;
        while (!path.empty()) {
            auto colon = path.find(':');
            std::string dir(path.substr(0, colon));
            path = colon == std::string_view::npos ? std::string_view{} : path.substr(colon + 1);
            std::string full = (dir.empty() ? std::string(".") : dir) + "/" + name;
            ::execve(full.c_str(), argv.data(), envp.data());
            if (errno == EACCES) denied = true;
            saved = denied ? EACCES : errno;
        }
    }
    child_fatal(fmt::format("execvp {}: {}", name, std::strerror(saved)));
}

// Kills the command's process group with the command's own effective
// ids (the agent works as mail_owner, who may not signal the user).
void kill_group(pid_t pid, uid_t uid, gid_t gid) {
    const uid_t saved_uid = ::geteuid();
    const gid_t saved_gid = ::getegid();
    const bool switch_ids = ::getuid() == 0;
    auto ignore = [](int) {};
    if (switch_ids) {
        if (saved_uid != 0) ignore(::seteuid(0));
        ignore(::setegid(gid));
        ignore(::seteuid(uid));
    }
    if (::kill(-pid, SIGKILL) < 0 && ::kill(pid, SIGKILL) < 0)
        util::msg_warn("cannot kill process (group) {}: {}", static_cast<long>(pid), std::strerror(errno));
    if (switch_ids) {
        ignore(::seteuid(0));
        ignore(::setegid(saved_gid));
        ignore(::seteuid(saved_uid));
    }
}

}  // namespace

CommandResult map_local_command(const CommandExit& run, const std::string& command) {
    CommandResult out;
    const bool has_output = !run.output.empty();
    const std::string text = clean(run.output);
    const std::string tail = has_output ? ". Command output: " + text : std::string();
    auto make = [](std::string status, std::string dtext, std::string reason) {
        ipc::Dsn d = ipc::Dsn::simple(std::move(status), std::move(reason));
        d.dtype = "x-unix";
        d.dtext = std::move(dtext);
        return d;
    };
    if (run.fork_failed) {
        out.verdict = CommandVerdict::defer;
        out.dsn = make("4.3.0", "system resource problem", fmt::format("Delivery failed: {}", std::strerror(run.fork_errno)));
        return out;
    }
    if (run.timed_out) {
        out.verdict = CommandVerdict::bounce;
        out.dsn = make("5.3.0", has_output ? text : "internal software error",
                       fmt::format("Command time limit exceeded: \"{}\"{}", command, tail));
        return out;
    }
    if (!(run.exited && run.status == 0)) {
        if (run.signaled) {
            out.verdict = CommandVerdict::defer;
            out.dsn = make("4.3.0", has_output ? text : "internal software error",
                           fmt::format("Command died with signal {}: \"{}\"{}", run.signal, command, tail));
            return out;
        }
        if (ipc::dsn_valid(text) > 0) {
            auto split = ipc::dsn_split("5.3.0", text);
            out.dsn = make(split.status, std::string(split.text), std::string(split.text));
            out.verdict = split.status[0] == '4' ? CommandVerdict::defer : CommandVerdict::bounce;
            return out;
        }
        if (const SysExit* sp = find_sys_exit(run.status)) {
            out.dsn = make(sp->status, has_output ? text : sp->text, sp->text + tail);
            out.verdict = sp->status[0] == '4' ? CommandVerdict::defer : CommandVerdict::bounce;
            return out;
        }
        out.dsn = make("5.3.0", has_output ? text : fmt::format("unknown mail system error {}", run.status),
                       fmt::format("Command died with status {}: \"{}\"{}", run.status, command, tail));
        out.verdict = CommandVerdict::bounce;
        return out;
    }
    if (run.copy.corrupt) {
        out.verdict = CommandVerdict::corrupt;
        return out;
    }
    if (run.copy.read_error) {
        out.verdict = CommandVerdict::defer;
        out.dsn = make("4.3.0", "input/output error", fmt::format("Command failed: error reading message: \"{}\"", command));
        return out;
    }
    if (run.copy.write_error && run.copy.write_errno != EPIPE) {
        out.verdict = CommandVerdict::bounce;
        out.dsn = make("5.3.0", "input/output error",
                       fmt::format("Command failed: error writing message: {}: \"{}\"",
                                   std::strerror(run.copy.write_errno), command));
        return out;
    }
    out.verdict = CommandVerdict::ok;
    out.dsn.reason = text;
    return out;
}

CommandResult run_local_command(const CommandJob& job, std::FILE* queue_file, long data_offset,
                                const ipc::CopyEnvelope& envelope, unsigned copy_flags) {
    CommandExit run;
    const std::vector<std::string> args = child_argv(job);
    const std::vector<std::string> env = child_env(job);
    int in_pipe[2];
    int out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) < 0) util::msg_fatal("pipe_command: pipe: {}", std::strerror(errno));
    OwnedFd in_read(in_pipe[0]), in_write(in_pipe[1]);
    if (::pipe2(out_pipe, O_CLOEXEC) < 0) util::msg_fatal("pipe_command: pipe: {}", std::strerror(errno));
    OwnedFd out_read(out_pipe[0]), out_write(out_pipe[1]);
    ::fcntl(out_write.get(), F_SETFL, ::fcntl(out_write.get(), F_GETFL) | O_NONBLOCK);
    std::fflush(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) {
        run.fork_failed = true;
        run.fork_errno = errno;
        util::msg_warn("fork: {}", std::strerror(errno));
        return map_local_command(run, job.command);
    }
    if (pid == 0) {
        ::signal(SIGPIPE, SIG_DFL);
        if (::getuid() == 0) {
            if (::geteuid() != 0 && ::seteuid(0) < 0) child_fatal(fmt::format("seteuid(0): {}", std::strerror(errno)));
            gid_t gid = job.gid;
            if (::setgid(gid) < 0) child_fatal(fmt::format("setgid({}): {}", static_cast<long>(gid), std::strerror(errno)));
            if (::setgroups(1, &gid) < 0) child_fatal(fmt::format("setgroups: {}", std::strerror(errno)));
            if (::setuid(job.uid) < 0)
                child_fatal(fmt::format("setuid({}): {}", static_cast<long>(job.uid), std::strerror(errno)));
        }
        (void)::setsid();
        if (::dup2(in_read.get(), STDIN_FILENO) < 0 || ::dup2(out_write.get(), STDOUT_FILENO) < 0 ||
            ::dup2(out_write.get(), STDERR_FILENO) < 0)
            child_fatal(fmt::format("pipe_command: dup2: {}", std::strerror(errno)));
        if (!job.cwd.empty() && ::chdir(job.cwd.c_str()) < 0)
            child_fatal(fmt::format("cannot change directory to \"{}\" for uid={} gid={}: {}", job.cwd,
                                    static_cast<unsigned long>(job.uid), static_cast<unsigned long>(job.gid),
                                    std::strerror(errno)));
        exec_child(args, env);
    }
    in_read.reset();
    out_write.reset();

    const int limit = job.time_limit;
    auto sink = [&](std::string_view data) -> bool {
        while (!data.empty()) {
            if (!wait_ready(in_write.get(), POLLOUT, run.timed_out ? 0 : limit)) {
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
    run.copy = ipc::copy_message(queue_file, data_offset, envelope, copy_flags, "\n", sink);
    in_write.reset();

    char buf[kOutputLimit];
    while (run.output.size() < kOutputLimit) {
        if (!wait_ready(out_read.get(), POLLIN, run.timed_out ? 0 : limit)) {
            if (!run.timed_out) {
                util::msg_warn("pipe_command_read: read time limit exceeded");
                run.timed_out = true;
            }
            break;
        }
        ssize_t n = ::read(out_read.get(), buf, kOutputLimit - run.output.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) break;
        run.output.append(buf, static_cast<std::size_t>(n));
    }
    out_read.reset();
    if (run.timed_out) kill_group(pid, job.uid, job.gid);

    int status = 0;
    bool waited_ok = false;
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
        waited_ok = wait_ready(pidfd, POLLIN, run.timed_out ? 1 : limit);
        ::close(pidfd);
    } else {
        waited_ok = true;
    }
    if (!waited_ok) {
        if (!run.timed_out) {
            util::msg_warn("pipe_command_wait_or_kill: child wait time limit exceeded");
            run.timed_out = true;
        }
        kill_group(pid, job.uid, job.gid);
    }
    pid_t waited;
    do {
        waited = ::waitpid(pid, &status, 0);
    } while (waited < 0 && errno == EINTR);
    if (waited < 0) util::msg_fatal("wait: {}", std::strerror(errno));
    if (WIFEXITED(status)) {
        run.exited = true;
        run.status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        run.signaled = true;
        run.signal = WTERMSIG(status);
    }
    return map_local_command(run, job.command);
}

}  // namespace pf::local
