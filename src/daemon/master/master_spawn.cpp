// Children of master: starting daemon_directory/<command> with the
// service's listening sockets on fds 6.. and a status channel on fd 5
// (ipc/mail_server.h), counting available and busy processes from the
// "<pid> <0|1>" lines on that channel, listening for new clients only when
// no process is available and the process limit allows another, and
// reaping exits. As the reference: an abnormal exit is logged ("process
// <path> pid <n> exit status <n>" / "... killed by signal <n>"), and a
// process that exits abnormally before serving anything throttles its
// service for service_throttle_time ("<path>: bad command startup --
// throttling").
//
// Trust: the status lines come from our daemons; anything malformed is
// ignored.
#include "daemon/master/master.h"

#include "ipc/mail_server.h"
#include "util/msg.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

namespace pf::master {

void Master::update_listen(Service& s) {
    bool at_limit = s.max_proc != 0 && s.total_proc >= s.max_proc;
    bool want = !s.throttled && s.avail_proc == 0 && !at_limit && !s.listen_fds.empty();
    if (at_limit && s.avail_proc == 0 && !s.local_only) {
        // As the reference: when every process is busy and no more may start.
        auto now = std::chrono::steady_clock::now();
        if (!s.busy_warned_ever || now - s.busy_warned > std::chrono::seconds(1000)) {
            s.busy_warned_ever = true;
            s.busy_warned = now;
            util::msg_warn("service \"{}\" ({}) has reached its process limit \"{}\": "
                           "new clients may experience noticeable delays",
                           s.name, s.limit_name, s.max_proc);
            util::msg_warn("to avoid this condition, increase the process count in master.cf "
                           "or reduce the service time per client");
        }
    }
    if (want == s.listening) return;
    s.listening = want;
    for (int fd : s.listen_fds) {
        if (!want) {
            loop_.unwatch_fd(fd);
            continue;
        }
        // Find the shared pointer of this service to hand to spawn().
        ServicePtr self;
        for (const auto& p : services_)
            if (p.get() == &s) self = p;
        if (!self) return;
        loop_.watch_fd(fd, [this, self] {
            if (self->listening) spawn(self);
        });
    }
}

void Master::spawn(const ServicePtr& s) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        util::msg_warn("socketpair: {}", std::strerror(errno));
        throttle(s);
        return;
    }
    // Our end never blocks the master: a read finds the child's status
    // lines or nothing.
    (void)::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    // Everything the child needs, built before fork.
    std::vector<std::string> env = child_env_;
    env.push_back("PF_LISTEN_FDS=" + std::to_string(s->listen_fds.size()));
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = s->argv;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) {
        util::msg_warn("fork: {}", std::strerror(errno));
        ::close(sv[0]);
        ::close(sv[1]);
        throttle(s);
        return;
    }
    if (pid == 0) {
        // Child: move the fds out of the way, then into place.
        const int base = 1000;
        int status = ::fcntl(sv[1], F_DUPFD_CLOEXEC, base);
        std::vector<int> moved;
        for (int fd : s->listen_fds) moved.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, base));
        if (status < 0 || ::dup2(status, ipc::kStatusFd) < 0) ::_exit(2);
        for (std::size_t i = 0; i < moved.size(); ++i)
            if (moved[i] < 0 || ::dup2(moved[i], ipc::kListenFd + static_cast<int>(i)) < 0) ::_exit(2);
        // Signals back to their defaults, none blocked.
        for (int sig : {SIGHUP, SIGTERM, SIGCHLD, SIGINT, SIGQUIT, SIGPIPE, SIGALRM}) ::signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(s->path.c_str(), argv.data(), envp.data());
        util::msg_fatal("master_spawn: exec {}: {}", s->path, std::strerror(errno));
    }
    ::close(sv[1]);
    Child c;
    c.pid = pid;
    c.service = s;
    c.path = s->path;
    c.status_fd = sv[0];
    children_[pid] = std::move(c);
    loop_.watch_fd(sv[0], [this, pid] { on_status(pid); });
    s->total_proc++;
    s->avail_proc++;
    s->used = true;
    if (util::msg_verbose) util::msg_info("spawn: {} pid {}", s->path, pid);
    update_listen(*s);
}

void Master::release_child(Child& c) {
    if (c.status_fd >= 0) {
        loop_.unwatch_fd(c.status_fd);
        ::close(c.status_fd);
        c.status_fd = -1;
    }
    if (c.service) {
        c.service->total_proc--;
        if (c.avail) c.service->avail_proc--;
        ServicePtr s = std::move(c.service);
        c.service.reset();
        update_listen(*s);
    }
}

void Master::on_status(pid_t pid) {
    auto it = children_.find(pid);
    if (it == children_.end()) return;
    Child& c = it->second;
    char buf[256];
    ssize_t n = ::read(c.status_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        // The child closed its end (it is exiting): wait for the reap.
        loop_.unwatch_fd(c.status_fd);
        return;
    }
    c.status_buffer.append(buf, static_cast<std::size_t>(n));
    if (c.status_buffer.size() > 4096) c.status_buffer.clear();
    std::size_t nl;
    while ((nl = c.status_buffer.find('\n')) != std::string::npos) {
        std::string line = c.status_buffer.substr(0, nl);
        c.status_buffer.erase(0, nl + 1);
        auto space = line.find(' ');
        if (space == std::string::npos || space + 2 != line.size()) continue;
        bool busy = line[space + 1] == '1';
        if (!c.service) continue;
        Service& s = *c.service;
        if (busy && c.avail) {
            c.avail = false;
            s.avail_proc--;
        } else if (!busy && !c.avail) {
            // As the reference, a process has served something once it is
            // back to available after a busy spell: one that dies during
            // its first client still counts as a bad start-up.
            c.avail = true;
            c.ever_busy = true;
            s.avail_proc++;
        }
        update_listen(s);
    }
}

void Master::throttle(const ServicePtr& s) {
    if (s->throttled) return;
    s->throttled = true;
    update_listen(*s);
    s->throttle_timer = loop_.add_timer(std::chrono::seconds(throttle_time_), [this, s] {
        s->throttled = false;
        s->throttle_timer = 0;
        update_listen(*s);
    });
}

void Master::child_exited(pid_t pid, int status) {
    auto it = children_.find(pid);
    if (it == children_.end()) return;
    Child c = std::move(it->second);
    children_.erase(it);
    bool normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        util::msg_warn("process {} pid {} exit status {}", c.path, pid, WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        util::msg_warn("process {} pid {} killed by signal {}", c.path, pid, WTERMSIG(status));
    ServicePtr s = c.service;
    release_child(c);
    if (s && !normal && !c.ever_busy && !s->throttled) {
        util::msg_warn("{}: bad command startup -- throttling", s->path);
        throttle(s);
    }
}

void Master::reap_children() {
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) break;
        child_exited(pid, status);
    }
}

void Master::terminate_children(int signal) {
    for (auto& [pid, c] : children_) ::kill(pid, signal);
}

}  // namespace pf::master
