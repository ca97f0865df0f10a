// master(8) main: options, the lock and pid files, signals, reload, and the
// event loop. Reproduces the reference's master as observed on 3.7.11:
//   master [-Ddistvw] [-c config_dir] [-e exit_time]
//   -t: exit 0 when no master holds the lock on queue_directory/pid/master.pid
//       (or there is no such file), 1 otherwise;
//   -w: a foreground process waits until the background master has started
//       and exits 0, or 1 when start-up failed;
//   -d: stay in the foreground with stdio untouched; -s: keep stdout;
//   log lines "daemon started -- version 3.7.11, configuration <dir>",
//   "reload -- version 3.7.11, configuration <dir>", "terminating on signal 15".
// Lock and pid files hold the pid right-aligned in 32 columns and a newline
// (master.pid owned by root, data_directory/master.lock by mail_owner, both
// mode 0600).
//
// Trust: runs as root on admin-written configuration.
#include "daemon/master/master.h"

#include "config/host_defaults.h"
#include "config/mail_params.h"
#include "ipc/maillog_client.h"
#include "util/msg.h"
#include "util/privileges.h"
#include "util/strings.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <exception>

#include <fmt/core.h>

extern char** environ;

namespace pf::master {

namespace {

int g_signal_pipe[2] = {-1, -1};

void on_signal(int sig) {
    int saved = errno;
    unsigned char byte = static_cast<unsigned char>(sig);
    (void)!::write(g_signal_pipe[1], &byte, 1);
    errno = saved;
}

std::string pid_text() { return fmt::format("{:>32}\n", ::getpid()); }

// Opens path and takes an exclusive, non-blocking lock on it; -1 with errno.
int open_locked(const std::string& path, mode_t mode) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, mode);
    if (fd < 0) return -1;
    if (::flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        ::close(fd);
        errno = e;
        return -2;
    }
    return fd;
}

void write_pid(int fd) {
    std::string text = pid_text();
    if (::ftruncate(fd, 0) < 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        util::msg_fatal("cannot update lock file: {}", std::strerror(errno));
}

}  // namespace

Master::Master(std::string config_directory, int verbose)
    : config_directory_(std::move(config_directory)), verbose_(verbose) {}

void Master::read_config() {
    auto cfg = std::make_unique<config::Config>(config_directory_);
    try {
        cfg->load_main_cf(true);
        config::check_mail_params(*cfg);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    // A reload does not change the network set-up (as the reference).
    for (const char* name : {"inet_interfaces", "inet_protocols"}) {
        std::string value = cfg->get(name);
        auto it = start_values_.find(name);
        if (it == start_values_.end()) {
            start_values_[name] = value;
        } else if (it->second != value) {
            util::msg_warn("ignoring {} parameter value change", name);
            util::msg_warn("old value: \"{}\", new value: \"{}\"", it->second, value);
            util::msg_warn("to change {}, stop and start Postfix", name);
            cfg->set_override(name, it->second);
        }
    }
    config_ = std::move(cfg);
    daemon_directory_ = config_->get("daemon_directory");
    queue_directory_ = config_->get("queue_directory");
    auto owner = util::lookup_account(config_->get("mail_owner"));
    if (!owner) util::msg_fatal("file {}: parameter mail_owner: {}", config_->main_cf_path(), owner.error());
    owner_uid_ = owner->uid;
    owner_gid_ = owner->gid;
    if (auto t = config::parse_time_value(config_->get("service_throttle_time"), 's')) throttle_time_ = *t;
    // The children's environment: import_environment (names taken from ours,
    // name=value as given), and MAIL_CONFIG always.
    child_env_.clear();
    bool have_mail_config = false;
    const std::string import_list = config_->get("import_environment");  // outlives the words
    for (auto word : util::split_tokens(import_list, util::kListSeparators)) {
        std::string w(word);
        if (w.find('=') != std::string::npos) {
            if (w.starts_with("MAIL_CONFIG=")) continue;
            child_env_.push_back(w);
        } else if (w == "MAIL_CONFIG") {
            have_mail_config = true;
        } else if (const char* v = std::getenv(w.c_str())) {
            child_env_.push_back(w + "=" + v);
        }
    }
    (void)have_mail_config;
    child_env_.push_back("MAIL_CONFIG=" + config_directory_);
    ipc::maillog_client_init(*config_, config_->get("syslog_name") + "/master", ipc::kMaillogDirectFallback);
}

void Master::build_services(std::vector<ServicePtr> old_services) {
    std::vector<ServicePtr> fresh = load_services();
    for (auto& f : fresh) {
        for (auto& o : old_services) {
            if (!o || o->listen_key != f->listen_key || o->listen_fds.empty()) continue;
            // Same sockets: take them over.
            for (int fd : o->listen_fds) loop_.unwatch_fd(fd);
            f->listen_fds = std::move(o->listen_fds);
            f->socket_paths = std::move(o->socket_paths);
            o->listen_fds.clear();
            o->listening = false;
            f->used = o->used;
            break;
        }
    }
    // Old services: their processes finish at their convenience (their
    // status channel closes); a service gone from master.cf loses its
    // processes now and its sockets.
    for (auto& o : old_services) {
        if (o->wakeup_timer) loop_.cancel_timer(o->wakeup_timer);
        if (o->throttle_timer) loop_.cancel_timer(o->throttle_timer);
        bool removed = !o->listen_fds.empty();
        for (auto& [pid, c] : children_) {
            if (c.service != o) continue;
            if (removed) ::kill(pid, SIGTERM);
            release_child(c);
        }
        if (removed) {
            close_listeners(*o);
            for (const auto& p : o->socket_paths) ::unlink(p.c_str());
        }
    }
    services_ = std::move(fresh);
    for (auto& s : services_)
        if (s->listen_fds.empty()) open_listeners(*s);
}

void Master::start_services() {
    for (auto& s : services_) {
        update_listen(*s);
        schedule_wakeup(s, true);
    }
}

void Master::reload() {
    util::msg_info("reload -- version {}, configuration {}", kMailVersion, config_directory_);
    read_config();
    auto old = std::move(services_);
    services_.clear();
    build_services(std::move(old));
    start_services();
}

void Master::run() {
    // Master watches every listening socket and every child's status
    // channel: epoll's cost per wait does not grow with their number.
    loop_.use_epoll();
    for (;;) {
        if (!loop_.run_once()) util::msg_fatal("poll: {}", std::strerror(errno));
    }
}

// Reads the bytes the signal handler wrote and acts on them.
struct MasterAccess {
    static void on_signals(Master& m) {
        unsigned char buf[64];
        ssize_t n = ::read(g_signal_pipe[0], buf, sizeof(buf));
        for (ssize_t i = 0; i < n; ++i) {
            int sig = buf[i];
            if (sig == SIGCHLD) {
                m.reap_children();
            } else if (sig == SIGHUP) {
                m.reload();
            } else if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
                // As the reference: the children (postlogd among them) are
                // told to go first, so with maillog_file this last line
                // reaches a postlogd that is going away; syslog gets it.
                m.terminate_children(SIGTERM);
                ipc::maillog_client_no_direct_fallback();
                util::msg_info("terminating on signal {}", sig);
                std::exit(0);
            }
        }
    }
};

}  // namespace pf::master

namespace {

[[noreturn]] void usage(const char* argv0) {
    pf::util::msg_fatal("usage: {} [-Ddistvw] [-c config_dir] [-e exit_time]", argv0);
}

// -t: 0 when no master runs.
int test_lock(const std::string& pid_path) {
    int fd = ::open(pid_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return 0;
    int rc = ::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1;
    ::close(fd);
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace pf;
    // Nothing our parent left open reaches the daemons, and what they
    // create is private unless they say otherwise (the reference's umask).
    ::close_range(3, ~0U, 0);
    ::umask(077);
    util::msg_set_program(argv[0]);
    config::set_process_name(argv[0]);
    const char* config_dir_opt = nullptr;
    bool debug_fg = false, keep_stdout = false, test_mode = false, wait_mode = false;
    int verbose = 0;
    int exit_time = 0;
    int c;
    while ((c = ::getopt(argc, argv, "c:Dde:istvw")) > 0) {
        switch (c) {
        case 'c': config_dir_opt = optarg; break;
        case 'D': break;
        case 'd': debug_fg = true; break;
        case 'e': exit_time = std::atoi(optarg); break;
        case 'i': keep_stdout = true; debug_fg = debug_fg || ::getpid() == 1; break;
        case 's': keep_stdout = true; break;
        case 't': test_mode = true; break;
        case 'v': ++verbose; break;
        case 'w': wait_mode = true; break;
        default: usage(argv[0]);
        }
    }
    if (optind < argc) usage(argv[0]);
    util::msg_verbose = verbose;
    std::string config_directory = config::resolve_config_directory(config_dir_opt);
    if (config_dir_opt) ::setenv("MAIL_CONFIG", config_directory.c_str(), 1);

    master::Master m(config_directory, verbose);
    if (test_mode) {
        // Only the paths are needed; no logging set-up, no checks.
        config::Config cfg(config_directory);
        try {
            cfg.load_main_cf(true);
        } catch (const std::exception& e) {
            util::msg_fatal("{}", e.what());
        }
        return test_lock(cfg.get("queue_directory") + "/" + cfg.get("process_id_directory") + "/master.pid");
    }
    if (::geteuid() != 0) util::msg_fatal("the master command is reserved for the superuser");
    util::msg_set_stderr(::isatty(2) || debug_fg);
    m.read_config();
    config::Config& cfg = m.config();
    std::string queue_directory = cfg.get("queue_directory");
    if (::chdir(queue_directory.c_str()) < 0)
        util::msg_fatal("chdir {}: {}", queue_directory, std::strerror(errno));

    // -w: the foreground process learns from a pipe whether start-up worked.
    int ready_pipe[2] = {-1, -1};
    if (wait_mode) {
        if (::pipe2(ready_pipe, O_CLOEXEC) < 0) util::msg_fatal("pipe: {}", std::strerror(errno));
        pid_t pid = ::fork();
        if (pid < 0) util::msg_fatal("fork: {}", std::strerror(errno));
        if (pid > 0) {
            ::close(ready_pipe[1]);
            pollfd p{ready_pipe[0], POLLIN, 0};
            int n = ::poll(&p, 1, 100 * 1000);
            char byte = 0;
            if (n > 0 && ::read(ready_pipe[0], &byte, 1) == 1 && byte == '0') return 0;
            return 1;
        }
        ::close(ready_pipe[0]);
    }
    if (!debug_fg) {
        ::setsid();
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, 0);
            if (!keep_stdout) ::dup2(null, 1);
            ::dup2(null, 2);
            if (null > 2) ::close(null);
        }
        util::msg_set_stderr(false);
    }
    // Descriptors 3..kListenFd+ must be free for nothing: we use high ones
    // for our own sockets anyway (CLOEXEC).

    // The locks: queue_directory/pid/master.pid (root) and
    // data_directory/master.lock (mail_owner).
    std::string pid_path = queue_directory + "/" + cfg.get("process_id_directory") + "/master.pid";
    int pid_fd = master::open_locked(pid_path, 0600);
    if (pid_fd == -2)
        util::msg_fatal("open lock file {}: unable to set exclusive lock: {}", pid_path, std::strerror(EAGAIN));
    if (pid_fd < 0)
        util::msg_fatal("open lock file {}: cannot open file: {}", pid_path, std::strerror(errno));
    master::write_pid(pid_fd);
    std::string data_directory = cfg.get("data_directory");
    std::string lock_path = data_directory + "/master.lock";
    int lock_fd = master::open_locked(lock_path, 0600);
    if (lock_fd == -2) util::msg_fatal("open lock file {}: unable to set exclusive lock: {}", lock_path, std::strerror(EAGAIN));
    if (lock_fd < 0) util::msg_fatal("open lock file {}: cannot create file exclusively: {}", lock_path, std::strerror(errno));
    auto owner = util::lookup_account(cfg.get("mail_owner"));
    if (owner && ::fchown(lock_fd, owner->uid, owner->gid) < 0)
        util::msg_warn("fchown {}: {}", lock_path, std::strerror(errno));
    master::write_pid(lock_fd);

    // Signals through a self-pipe into the event loop.
    if (::pipe2(master::g_signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0) util::msg_fatal("pipe: {}", std::strerror(errno));
    struct sigaction sa {};
    sa.sa_handler = master::on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGHUP, SIGTERM, SIGCHLD, SIGINT, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    m.loop().watch_fd(master::g_signal_pipe[0], [&m] { master::MasterAccess::on_signals(m); });

    m.build_services({});
    util::msg_info("daemon started -- version {}, configuration {}", master::kMailVersion, config_directory);
    m.start_services();
    if (exit_time > 0) {
        m.loop().add_timer(std::chrono::seconds(exit_time), [] {
            pf::util::msg_info("terminating on signal {}", SIGTERM);
            std::exit(0);
        });
    }
    if (wait_mode) {
        (void)!::write(ready_pipe[1], "0", 1);
        ::close(ready_pipe[1]);
    }
    m.run();
    return 0;
}
