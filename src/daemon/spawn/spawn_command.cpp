// spawn(8)'s command runner (spawn_command.h).
//
// Trust: see spawn_command.h. The child reports a failure to become the
// user or to exec as a fatal error of its own, logged under the daemon's
// name with the child's pid, and exits 1 (the parent then warns about the
// exit status), as the reference's child does.
#include "spawn_command.h"

#include "util/msg.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/close_range.h>
#include <grp.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

extern char** environ;

namespace pf::spawn {

namespace {

// Every descriptor above 2 closes at exec.
void mark_close_on_exec() {
#ifdef CLOSE_RANGE_CLOEXEC
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
    long max = ::sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) max = 65536;
    for (int fd = 3; fd < max; ++fd) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC)) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

// The child: never returns.
[[noreturn]] void child_steps(const SpawnRequest& request, std::vector<char*>& argv, std::vector<char*>& env) {
    ::signal(SIGPIPE, SIG_DFL);
    if (::getuid() == 0) {
        if (::geteuid() != 0 && ::seteuid(0) < 0) util::msg_fatal("seteuid(0): {}", std::strerror(errno));
        gid_t gid = request.gid;
        if (::setgid(gid) < 0) util::msg_fatal("setgid({}): {}", static_cast<long>(gid), std::strerror(errno));
        if (::setgroups(1, &gid) < 0)
            util::msg_fatal("setgroups(1, &{}): {}", static_cast<long>(gid), std::strerror(errno));
        if (::setuid(request.uid) < 0)
            util::msg_fatal("setuid({}): {}", static_cast<long>(request.uid), std::strerror(errno));
    }
    if (::setsid() < 0) util::msg_fatal("setsid failed: {}", std::strerror(errno));
    for (int target = 0; target <= 2; ++target)
        if (::dup2(request.client_fd, target) < 0) util::msg_fatal("dup2: {}", std::strerror(errno));
    // Nothing of the daemon's (listening sockets, the status pipe, the
    // log socket) reaches the command; they stay open until the exec, so
    // that an exec failure can still be logged.
    mark_close_on_exec();
    // execvp searches the PATH of the new environment.
    environ = env.data();
    ::execvp(argv[0], argv.data());
    // The reference's text, with the spelling of its function name.
    util::msg_fatal("spawn_comand: execvp {}: {}", request.argv[0], std::strerror(errno));
}

// The child: never returns, not even when msg_fatal throws (unit tests).
[[noreturn]] void run_child(const SpawnRequest& request, std::vector<char*>& argv, std::vector<char*>& env) {
    try {
        child_steps(request, argv, env);
    } catch (...) {
    }
    ::_exit(1);
}

// waitpid with a time limit, through a pidfd; false when it ran out.
bool timed_waitpid(pid_t pid, int& status, int seconds) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
        pollfd p{pidfd, POLLIN, 0};
        long long remaining = static_cast<long long>(seconds) * 1000;
        int n;
        for (;;) {
            int wait_ms = remaining > 1000000000 ? 1000000000 : static_cast<int>(remaining);
            n = ::poll(&p, 1, wait_ms);
            if (n > 0 || (n < 0 && errno != EINTR)) break;
            if (n == 0) {
                remaining -= wait_ms;
                if (remaining <= 0) break;
            }
        }
        ::close(pidfd);
        if (n == 0) return false;
    }
    for (;;) {
        pid_t w = ::waitpid(pid, &status, 0);
        if (w >= 0) return true;
        if (errno != EINTR) util::msg_fatal("wait: {}", std::strerror(errno));
    }
}

}  // namespace

SpawnOutcome spawn_command(const SpawnRequest& request) {
    SpawnOutcome outcome;
    if (request.argv.empty()) util::msg_panic("spawn_command: empty argv");
    // Everything the child needs is made before the fork.
    std::vector<char*> argv;
    for (const auto& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> env;
    for (const auto& e : request.env) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) util::msg_fatal("fork: {}", std::strerror(errno));
    if (pid == 0) run_child(request, argv, env);

    int status = 0;
    if (!timed_waitpid(pid, status, request.time_limit)) {
        util::msg_warn("{}: process id {}: command time limit exceeded", request.argv[0],
                       static_cast<unsigned long>(pid));
        (void)::kill(-pid, SIGKILL);
        for (;;) {
            if (::waitpid(pid, &status, 0) >= 0) break;
            if (errno != EINTR) util::msg_fatal("wait: {}", std::strerror(errno));
        }
    }
    outcome.wait_status = status;
    return outcome;
}

std::vector<std::string> spawn_exit_warnings(const std::string& command, int wait_status) {
    std::vector<std::string> out;
    if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0)
        out.push_back(fmt::format("command {} exit status {}", command, WEXITSTATUS(wait_status)));
    if (WIFSIGNALED(wait_status))
        out.push_back(fmt::format("command {} killed by signal {}", command, WTERMSIG(wait_status)));
    return out;
}

}  // namespace pf::spawn
