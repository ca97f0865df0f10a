// The daemon skeleton of mail_server.h: start-up (options, main.cf with -o
// overrides, logging, chdir, chroot, privilege drop), then one event loop
// that accepts clients, reports busy/idle to master over the status pipe,
// and exits after max_use requests, max_idle seconds without work, on
// SIGTERM or when master goes away. The reference's single_server,
// multi_server and trigger_server give their daemons the same life cycle.
//
// Trust: argv and the inherited fds come from master (ours); client bytes
// are the handlers' business; main.cf is admin-written and checked.
#include "ipc/mail_server.h"

#include "config/host_defaults.h"
#include "config/mail_params.h"
#include "dict/dict_indexed.h"
#include "dict/dict_utf8.h"
#include "ipc/attr.h"
#include "ipc/fd_passing.h"
#include "ipc/maillog_client.h"
#include "util/event_loop.h"
#include "util/listen_socket.h"
#include "util/msg.h"
#include "util/privileges.h"
#include "util/process_id.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>
#include <memory>
#include <optional>

namespace pf::ipc {

namespace {

using namespace std::chrono_literals;

enum class Kind { single, multi, trigger };

util::EventLoop& loop() {
    static util::EventLoop l;
    return l;
}

struct Options {
    std::string service_name;
    std::string service_type = "unix";
    bool chroot = false;
    bool unprivileged = false;
    bool standalone = false;
    std::string socket_path;
    int verbose = 0;
    std::vector<std::pair<std::string, std::string>> overrides;
    std::vector<std::string> args;
};

[[noreturn]] void usage(const std::string& program) {
    util::msg_fatal("usage: {} [-cDlSuvz] [-n name] [-o name=value] [-s socket] [-t type] [args]", program);
}

Options parse_options(int argc, char** argv, const std::string& program) {
    Options o;
    int i = 1;
    auto value_of = [&](const std::string& word, std::size_t pos) -> std::string {
        // "-ovalue" or "-o value".
        if (pos + 1 < word.size()) return word.substr(pos + 1);
        if (i + 1 >= argc) usage(program);
        return argv[++i];
    };
    for (; i < argc; ++i) {
        std::string word = argv[i];
        if (word == "--") {
            ++i;
            break;
        }
        if (word.size() < 2 || word[0] != '-') break;
        for (std::size_t pos = 1; pos < word.size(); ++pos) {
            char c = word[pos];
            bool consumed = false;
            switch (c) {
            case 'c': o.chroot = true; break;
            case 'u': o.unprivileged = true; break;
            case 'S': o.standalone = true; break;
            case 'v': ++o.verbose; break;
            case 'D': case 'l': case 'z': case 'd': case 'i': break;
            case 'n': o.service_name = value_of(word, pos); consumed = true; break;
            case 't': o.service_type = value_of(word, pos); consumed = true; break;
            case 's': o.socket_path = value_of(word, pos); consumed = true; break;
            case 'o': {
                std::string nv = value_of(word, pos);
                consumed = true;
                auto eq = nv.find('=');
                if (eq == std::string::npos || eq == 0)
                    util::msg_fatal("missing '=' after attribute name");
                std::string name = nv.substr(0, eq);
                std::string value = nv.substr(eq + 1);
                // Trim blanks around the name and value, as "name = value".
                auto trim = [](std::string& s) {
                    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
                    std::size_t k = 0;
                    while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
                    s.erase(0, k);
                };
                trim(name);
                trim(value);
                o.overrides.emplace_back(name, value);
                break;
            }
            default: usage(program);
            }
            if (consumed) break;
        }
    }
    for (; i < argc; ++i) o.args.emplace_back(argv[i]);
    if (o.service_name.empty()) o.service_name = program;
    return o;
}

// The state of the running server; one per process.
struct Server {
    Kind kind;
    std::unique_ptr<config::Config> config;
    std::unique_ptr<ServerContext> ctx;
    ServerHooks hooks;
    ClientHandler client_handler;
    TriggerHandler trigger_handler;
    std::vector<int> listen_fds;
    bool have_status = false;
    bool connectionless = false;  // unix-dgram and fifo services
    int daemon_timeout = 18000;
    int ipc_timeout = 3600;
    int use_count = 0;
    int client_count = 0;
    bool busy_reported = false;
    bool accepting = true;
    bool done = false;
    std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_alarm{};  // when touch() last armed the watchdog
    bool unexpected_args = false;  // words after the options that the daemon does not take
    bool draining = false;            // server_drain(): exit after the last client
    std::function<bool()> drain_busy;  // ... and when this says the daemon's own work is done
};

Server* g_server = nullptr;

void report_status(Server& s, bool busy) {
    if (!s.have_status || s.busy_reported == busy) return;
    s.busy_reported = busy;
    std::string line = std::to_string(util::current_pid()) + (busy ? " 1\n" : " 0\n");
    ssize_t n;
    do {
        n = ::write(kStatusFd, line.data(), line.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        // master went away: nothing left to serve for.
        std::exit(0);
    }
}

void touch(Server& s) {
    s.last_activity = std::chrono::steady_clock::now();
    // The watchdog is re-armed at most once a second (one alarm(2) per
    // event cost several system calls per message): with the usual
    // limit of hours, a second earlier makes no difference.
    if (s.daemon_timeout > 0 &&
        (s.daemon_timeout < 100 || s.last_activity - s.last_alarm >= std::chrono::seconds(1))) {
        ::alarm(static_cast<unsigned>(s.daemon_timeout));
        s.last_alarm = s.last_activity;
    }
}

// Where the reference's service routine starts: a daemon that takes no
// arguments but was given some stops here (ServerHooks::takes_args).
void check_args(const Server& s) {
    if (s.unexpected_args) util::msg_fatal("unexpected command-line argument: {}", s.ctx->args.front());
}

bool use_limit_reached(const Server& s) { return s.ctx->max_use > 0 && s.use_count >= s.ctx->max_use; }

void stop_accepting(Server& s) {
    if (!s.accepting) return;
    s.accepting = false;
    for (int fd : s.listen_fds) loop().unwatch_fd(fd);
}

int accept_waiting(Server& s);
void serve_multi_client(Server& s, int fd);

// A client connection is over (multi-server).
void client_done(Server& s, int fd) {
    loop().unwatch_fd(fd);
    ::close(fd);
    --s.client_count;
    touch(s);
    if (s.client_count == 0) {
        if (use_limit_reached(s) || !s.accepting) s.done = true;
        // A connection already waiting is taken now, still busy: master
        // need not hear "available" and then "busy" again. (Bounded: a
        // client served to its end at once would bring us back here.)
        static int depth = 0;
        if (!s.done && depth < 4) {
            if (int next = accept_waiting(s); next >= 0) {
                ++depth;
                ++s.client_count;
                ++s.use_count;
                if (use_limit_reached(s)) stop_accepting(s);
                serve_multi_client(s, next);
                --depth;
                return;
            }
        }
        report_status(s, false);
    }
}

void serve_multi_client(Server& s, int fd) {
    touch(s);
    if (s.unexpected_args) {
        // The reference calls its service once the client sends something.
        loop().watch_fd(fd, [&s] { check_args(s); });
        return;
    }
    bool keep = s.client_handler(*s.ctx, fd);
    if (!keep) {
        client_done(s, fd);
        return;
    }
    loop().watch_fd(fd, [&s, fd] {
        touch(s);
        if (!s.client_handler(*s.ctx, fd)) client_done(s, fd);
    });
}

// Waits until fd is readable or hung up; false on timeout.
bool wait_readable(int fd, int seconds) {
    pollfd p{fd, POLLIN, 0};
    for (;;) {
        int n = ::poll(&p, 1, seconds > 0 ? seconds * 1000 : -1);
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) return false;
    }
}

// (Unlike a multi-server, a single server tells master "available" after
// every client even when the next one is already waiting: taking it at
// once was measured, but then the next session ran in the same process
// where the reference's runs in a new one that master starts for it, and
// what a process logs once, e.g. smtpd's TLS engine start, moved.)
void serve_single_client(Server& s, int fd) {
    report_status(s, true);
    ++s.use_count;
    touch(s);
    check_args(s);
    while (s.client_handler(*s.ctx, fd)) {
        if (!wait_readable(fd, s.ipc_timeout)) break;
        touch(s);
    }
    ::close(fd);
    touch(s);
    if (use_limit_reached(s)) s.done = true;
    report_status(s, false);
}

// A "pass" service (master.cf type pass): a connection to the listening
// socket only hands over the client's descriptor (SCM_RIGHTS) and then an
// attribute message (empty unless the sender has something to say), as
// the reference's pass_accept_attr() receives them, with its 100-second
// limit and warnings. Returns the client's descriptor, or -1.
int receive_passed_client(int fd, std::vector<std::pair<std::string, std::string>>& attrs_out) {
    constexpr int kPassTimeout = 100;
    int client = -1;
    auto passed = receive_fd(fd, kPassTimeout);
    if (!passed) {
        util::msg_warn("pass_accept_attr: cannot receive file descriptor: {}", passed.error());
    } else {
        std::string buffer;
        auto attrs = receive_attrs(fd, buffer, kPassTimeout);
        if (!attrs)
            util::msg_warn("pass_accept_attr: cannot receive connection attributes: {}", attr_error_text(attrs.error()));
        else {
            attrs_out = attrs->items();
            client = passed->release();
        }
    }
    ::close(fd);
    return client;
}

std::string read_trigger_bytes(int fd, bool stream, int timeout) {
    std::string bytes;
    char buf[1024];
    if (stream && !wait_readable(fd, timeout)) return bytes;
    ssize_t n;
    do {
        n = ::read(fd, buf, sizeof(buf));
    } while (n < 0 && errno == EINTR);
    if (n > 0) bytes.assign(buf, static_cast<std::size_t>(n));
    return bytes;
}

void serve_trigger(Server& s, int fd, bool stream) {
    report_status(s, true);
    touch(s);
    std::string bytes = read_trigger_bytes(fd, stream, 100);
    if (stream) ::close(fd);
    // A FIFO or datagram that yielded nothing (another process got it) is
    // no request.
    if (!bytes.empty() || stream) {
        ++s.use_count;
        check_args(s);
        s.trigger_handler(*s.ctx, bytes);
    }
    touch(s);
    if (use_limit_reached(s)) s.done = true;
    report_status(s, false);
}

// Accepts a connection on listen_fd (receiving the client of a "pass"
// service); -1 when none was there.
int accept_one(Server& s, int listen_fd) {
    if (s.hooks.pre_accept) {
        s.hooks.pre_accept(*s.ctx);
        if (!s.accepting) return -1;  // drained (server_drain)
    }
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
        // Another process of this service took it, or the client left.
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
            util::msg_warn("accept connection: {}", std::strerror(errno));
        return -1;
    }
    if (s.ctx->service_type == "pass" && s.kind != Kind::trigger) return receive_passed_client(fd, s.ctx->passed_attrs);
    return fd;
}

// A connection already waiting on any listening socket, or -1.
int accept_waiting(Server& s) {
    if (!s.accepting || s.done) return -1;
    for (int listen_fd : s.listen_fds) {
        int fd = accept_one(s, listen_fd);
        if (fd >= 0) return fd;
    }
    return -1;
}

void on_listen_readable(Server& s, int listen_fd) {
    if (s.done) return;
    if (s.connectionless) {
        if (s.kind == Kind::trigger) {
            // As the reference's trigger server, also before a FIFO's bytes.
            if (s.hooks.pre_accept) s.hooks.pre_accept(*s.ctx);
            serve_trigger(s, listen_fd, false);
        } else {
            // A datagram service (postlogd) tells master nothing per
            // datagram: it serves every sender at once, so "busy" would
            // only cost master a wake-up and a read per log line burst.
            ++s.use_count;
            touch(s);
            check_args(s);
            s.client_handler(*s.ctx, listen_fd);
            touch(s);
            if (use_limit_reached(s)) s.done = true;
        }
        return;
    }
    int fd = accept_one(s, listen_fd);
    if (fd < 0) return;
    switch (s.kind) {
    case Kind::single:
        serve_single_client(s, fd);
        break;
    case Kind::trigger:
        serve_trigger(s, fd, true);
        break;
    case Kind::multi:
        if (s.client_count++ == 0) report_status(s, true);
        ++s.use_count;
        if (use_limit_reached(s)) stop_accepting(s);
        serve_multi_client(s, fd);
        break;
    }
}

std::vector<int> standalone_listen(const Options& o) {
    std::expected<int, std::string> fd;
    if (o.service_type == "fifo") {
        fd = util::listen_fifo(o.socket_path, 0622);
    } else if (o.service_type == "unix-dgram") {
        fd = util::listen_unix_dgram(o.socket_path, 0666);
    } else if (o.service_type == "inet") {
        std::string host, port;
        if (!util::split_inet_endpoint(o.socket_path, host, port)) util::msg_fatal("bad endpoint: {}", o.socket_path);
        fd = util::listen_inet(host, port, 100);
    } else {
        fd = util::listen_unix_stream(o.socket_path, 100, 0666);
    }
    if (!fd) util::msg_fatal("{}", fd.error());
    return {*fd};
}

void make_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int time_param(const config::Config& cfg, std::string_view name, int fallback) {
    auto v = config::parse_time_value(cfg.get(name), 's');
    return v ? *v : fallback;
}

// Everything before the loop; exits on failure.
void start(Server& s, int argc, char** argv) {
    std::string argv0 = argc > 0 ? argv[0] : "daemon";
    util::msg_set_program(argv0);
    config::set_process_name(argv0);
    std::string program = argv0.substr(argv0.rfind('/') == std::string::npos ? 0 : argv0.rfind('/') + 1);
    Options o = parse_options(argc, argv, argv0);
    util::msg_verbose += o.verbose;
    // stderr only when someone can read it: a terminal, or a test running
    // the daemon by hand.
    util::msg_set_stderr(::isatty(2) || (o.standalone && !(s.hooks.quiet_on_stdin && o.socket_path.empty())));
    ::signal(SIGPIPE, SIG_IGN);

    // Until main.cf is read, log with the built-in defaults (syslog,
    // "postfix/<program>"), so that a broken main.cf is not silent.
    {
        config::Config defaults(config::resolve_config_directory(nullptr));
        maillog_client_init(defaults, mail_task(defaults, program));
    }
    try {
        const char* env = std::getenv("MAIL_CONFIG");
        s.config = std::make_unique<config::Config>(config::resolve_config_directory(nullptr));
        s.config->load_main_cf(env != nullptr && *env != 0);
        for (auto& [name, value] : o.overrides) s.config->set_override(name, value);
        s.config->set_override("service_name", o.service_name);
        config::check_mail_params(*s.config);
        dict::load_indexed_table_params(*s.config);  // berkeley_db_*_buffer_size, lmdb_map_size
        // Every daemon turns UTF-8 support on from smtputf8_enable, as the
        // reference's programs do (diagnostics, table keys), before any
        // table is opened.
        bool utf8 = config::parse_bool_value(s.config->get("smtputf8_enable")).value_or(false);
        util::msg_set_utf8(utf8);
        dict::set_utf8_support(utf8);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    config::Config& cfg = *s.config;
    maillog_client_init(cfg, mail_task(cfg, program));

    s.ctx = std::unique_ptr<ServerContext>(new ServerContext{cfg, o.service_name, o.service_type, program, false, {}, false, 100, 100});
    ServerContext& ctx = *s.ctx;
    ctx.args = o.args;
    s.unexpected_args = !s.hooks.takes_args && !ctx.args.empty();
    ctx.standalone = o.standalone;
    ctx.on_stdin = o.standalone && o.socket_path.empty();
    if (auto v = config::parse_int_value(cfg.get("max_use"), 1LL << 30)) ctx.max_use = static_cast<int>(*v);
    ctx.max_idle = time_param(cfg, "max_idle", 100);
    s.daemon_timeout = time_param(cfg, "daemon_timeout", 18000);
    s.ipc_timeout = time_param(cfg, "ipc_timeout", 3600);
    s.connectionless = o.service_type == "unix-dgram" || o.service_type == "fifo";

    // The sockets.
    if (o.standalone) {
        if (!o.socket_path.empty()) s.listen_fds = standalone_listen(o);
    } else {
        int count = 1;
        if (const char* n = std::getenv("PF_LISTEN_FDS")) count = std::atoi(n);
        if (count < 0 || count > 1000) count = 1;
        for (int k = 0; k < count; ++k) {
            if (::fcntl(kListenFd + k, F_GETFD) < 0)
                util::msg_fatal("no listening socket on descriptor {}: was this started by master?", kListenFd + k);
            make_nonblocking(kListenFd + k);
            s.listen_fds.push_back(kListenFd + k);
        }
        s.have_status = ::fcntl(kStatusFd, F_GETFD) >= 0;
        if (s.have_status) ::fcntl(kStatusFd, F_SETFD, FD_CLOEXEC);
    }

    std::string queue_directory = cfg.get("queue_directory");
    if (::chdir(queue_directory.c_str()) < 0)
        util::msg_fatal("chdir(\"{}\"): {}", queue_directory, std::strerror(errno));

    if (s.hooks.pre_init) s.hooks.pre_init(ctx);

    if (s.hooks.privileged && o.unprivileged)
        util::msg_fatal("service {} requires privileged operation", o.service_name);
    bool root = ::geteuid() == 0;
    if (o.chroot && !root) util::msg_warn("not running as root: no chroot to {}", queue_directory);
    if (root && o.unprivileged && !s.hooks.keep_root) {
        std::string owner = cfg.get("mail_owner");
        auto account = util::lookup_account(owner);
        if (!account) util::msg_fatal("file {}: parameter mail_owner: {}", cfg.main_cf_path(), account.error());
        auto dropped = util::drop_privileges(account->uid, account->gid, o.chroot ? queue_directory : "",
                                             o.chroot ? "/" : queue_directory);
        if (!dropped) util::msg_fatal("{}", dropped.error());
        ctx.chrooted = o.chroot;
    } else if (root && o.chroot) {
        if (::chroot(queue_directory.c_str()) < 0 || ::chdir("/") < 0)
            util::msg_fatal("chroot({}): {}", queue_directory, std::strerror(errno));
        ctx.chrooted = true;
    }
    if (ctx.chrooted) {
        maillog_client_chrooted();
        // Inside the jail the queue is "/": paths built from
        // queue_directory (sockets, queue files) keep working.
        cfg.set_override("queue_directory", "/");
    }

    if (s.hooks.post_init) s.hooks.post_init(ctx);
    if (util::msg_verbose) util::msg_info("daemon started");
}

// The client on stdin (-S without -s): serve it once and finish.
int serve_stdin(Server& s) {
    check_args(s);
    if (s.kind == Kind::trigger) {
        std::string bytes;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(0, buf, sizeof(buf))) > 0) bytes.append(buf, static_cast<std::size_t>(n));
        s.trigger_handler(*s.ctx, bytes);
        return 0;
    }
    while (s.client_handler(*s.ctx, 0)) {
        if (!wait_readable(0, s.ipc_timeout)) break;
    }
    return 0;
}

int run(Kind kind, int argc, char** argv, ServerHooks hooks, ClientHandler client, TriggerHandler trigger) {
    auto server = std::make_unique<Server>();
    Server& s = *server;
    g_server = &s;
    s.kind = kind;
    s.hooks = std::move(hooks);
    s.client_handler = std::move(client);
    s.trigger_handler = std::move(trigger);
    start(s, argc, argv);

    if (s.ctx->standalone && s.listen_fds.empty()) return serve_stdin(s);

    // The processes of a single-client service all wait on the same
    // listening socket: with epoll and EPOLLEXCLUSIVE a connection wakes
    // one of them instead of every idle one (each of which then failed its
    // accept: several wake-ups and system calls per relayed message).
    bool exclusive = s.kind == Kind::single && !s.connectionless;
    if (exclusive) loop().use_epoll();
    for (int fd : s.listen_fds) {
        if (exclusive)
            loop().watch_fd_exclusive(fd, [&s, fd] { on_listen_readable(s, fd); });
        else
            loop().watch_fd(fd, [&s, fd] { on_listen_readable(s, fd); });
    }
    if (s.have_status) {
        // Our end of the status pipe reads end-of-file when master exits or
        // lets go of this process (reload): finish quietly.
        loop().watch_fd(kStatusFd, [&s] {
            if (util::msg_verbose) util::msg_info("master disconnect -- exiting");
            loop().unwatch_fd(kStatusFd);
            s.have_status = false;
            stop_accepting(s);
            // Clients still connected to a multi-server finish first.
            if (s.client_count == 0) s.done = true;
        });
    }
    touch(s);
    while (!s.done) {
        std::chrono::milliseconds wait(-1);
        bool idle_applies = s.ctx->max_idle > 0 && s.client_count == 0;
        if (idle_applies) {
            auto deadline = s.last_activity + std::chrono::seconds(s.ctx->max_idle);
            auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                if (s.hooks.on_idle && kind != Kind::single) {
                    s.hooks.on_idle(*s.ctx);
                    touch(s);
                    continue;
                }
                if (util::msg_verbose) util::msg_info("idle timeout -- exiting");
                break;
            }
            wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
        }
        if (!loop().run_once(wait)) util::msg_fatal("poll: {}", std::strerror(errno));
        if (s.draining && s.client_count == 0 && !(s.drain_busy && s.drain_busy())) s.done = true;
    }
    if (util::msg_verbose && s.done) util::msg_info("use limit reached -- exiting");
    return 0;
}

}  // namespace

int run_single_server(int argc, char** argv, ServerHooks hooks, ClientHandler handler) {
    return run(Kind::single, argc, argv, std::move(hooks), std::move(handler), {});
}

int run_multi_server(int argc, char** argv, ServerHooks hooks, ClientHandler handler) {
    return run(Kind::multi, argc, argv, std::move(hooks), std::move(handler), {});
}

int run_trigger_server(int argc, char** argv, ServerHooks hooks, TriggerHandler handler) {
    return run(Kind::trigger, argc, argv, std::move(hooks), {}, std::move(handler));
}

void server_add_timer(int seconds, std::function<void()> callback) {
    loop().add_timer(std::chrono::seconds(seconds), std::move(callback));
}

void server_watch_fd(int fd, std::function<void()> on_readable) { loop().watch_fd(fd, std::move(on_readable)); }

void server_unwatch_fd(int fd) { loop().unwatch_fd(fd); }

util::EventLoop& server_event_loop() { return loop(); }

bool server_drain(std::function<bool()> busy) {
    Server& s = *g_server;
    auto has_clients = [&s, busy] { return s.client_count > 0 || (busy && busy()); };
    if (has_clients()) {
        pid_t pid = ::fork();
        if (pid < 0) return false;
        if (pid > 0) std::_Exit(0);  // master starts a fresh process for new clients
    }
    // The child: keeps its clients, takes no new ones, tells master nothing
    // (it is no longer one of master's processes), and exits when the
    // last client is done.
    stop_accepting(s);
    for (int fd : s.listen_fds) {
        // Keep the number taken, so that no later descriptor reuses it.
        if (::dup2(STDIN_FILENO, fd) < 0) util::msg_warn("server_drain: dup2({}, {}): {}", STDIN_FILENO, fd, std::strerror(errno));
    }
    if (s.have_status) {
        loop().unwatch_fd(kStatusFd);
        s.have_status = false;
    }
    if (!has_clients()) std::exit(0);
    s.drain_busy = std::move(busy);
    s.draining = true;
    return true;
}

}  // namespace pf::ipc
