// postqueue(1): the queue listing and flush requests for users, as the
// reference 3.7.11's:
//   postqueue [-v] [-c config_dir] -f | -i queue_id | -j | -p | -s site
// -p lists the queue in the Sendmail mailq style and -j as JSON lines,
// both from the showq service (public/showq) or, for root when the mail
// system is down, from "showq -u -S" run directly; -f asks qmgr to flush
// every deferred message (trigger "FADI") and pickup to look at maildrop
// ("W"); -s site and -i queue_id go to the flush service. Access is
// controlled by authorized_mailq_users and authorized_flush_users (root
// and mail_owner always pass). Messages are the reference's; every fatal
// error exits 69 (EX_UNAVAILABLE), as the reference's do whatever status
// they name, because its clean-up hook exits first. Diagnostics go to
// standard error and to the mail log.
//
// Privileges: installed set-gid setgid_group, so that it can reach the
// public/ sockets; it therefore trusts nothing from the user: a
// non-default configuration directory must be listed in the default
// main.cf (alternate_config_directories) unless root runs it, the
// environment is cleaned to import_environment, site and queue ID are
// checked before use, and -v is ignored unless root.
#include "mail/user_acl.h"
#include "cmd/postqueue/postqueue_showq.h"
#include "config/command_start.h"
#include "config/config.h"
#include "config/config_directory_check.h"
#include "config/host_defaults.h"
#include "config/mail_params.h"
#include "ipc/flush_client.h"
#include "ipc/maillog_client.h"
#include "ipc/service_client.h"
#include "mail/address_hostaddr.h"
#include "queue/queue_file.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

namespace {

using namespace pf;

constexpr int kExUnavailable = 69;

constexpr const char* kDefaultConfigDir = "/etc/postfix";

// The pipe from a showq run directly (mail system down), in bytes: the
// largest an unprivileged process may ask for by default.
constexpr int kShowqPipeSize = 1024 * 1024;

// The exit status of every fatal error (see the header comment).
constexpr int g_fatal_status = kExUnavailable;

[[noreturn]] void usage() {
    util::msg_fatal("usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | postqueue -s site");
}

// Diagnostics to the mail log as well as to stderr; fatal errors end with
// g_fatal_status instead of the library's 1.
void install_log_sink(const config::Config* cfg) {
    std::string ident = cfg ? ipc::mail_task(*cfg, "postqueue") : std::string("postfix/postqueue");
    if (cfg) ipc::maillog_client_init(*cfg, ident, ::geteuid() == 0 ? ipc::kMaillogDirectFallback : ipc::kMaillogNone);
    util::msg_set_sink([ident](util::MsgLevel level, std::string_view text) {
        int priority = LOG_INFO;
        std::string line;
        const char* severity = nullptr;
        switch (level) {
        case util::MsgLevel::info: break;
        case util::MsgLevel::warning: priority = LOG_WARNING, severity = "warning"; break;
        case util::MsgLevel::error: priority = LOG_ERR, severity = "error"; break;
        case util::MsgLevel::fatal: priority = LOG_CRIT, severity = "fatal"; break;
        case util::MsgLevel::panic: priority = LOG_CRIT, severity = "panic"; break;
        }
        if (severity) line = std::string(severity) + ": ";
        line += text;
        ipc::maillog_client_send(priority, ident, line);
        if (level == util::MsgLevel::fatal) {
            std::fflush(stdout);
            std::string out = util::msg_program() + ": " + line + "\n";
            (void)!::write(2, out.data(), out.size());
            std::exit(g_fatal_status);
        }
    });
}

// The reference's clean_env(): only the import_environment names survive,
// NAME=VALUE entries are set.
void clean_environment(const config::Config& cfg) {
    std::vector<std::pair<std::string, std::string>> keep;
    const std::string setting = cfg.get("import_environment");
    for (auto word : util::split_tokens(setting, util::kListSeparators)) {
        auto eq = word.find('=');
        if (eq != std::string_view::npos) {
            if (eq == 0) util::msg_fatal("clean_env: missing attribute name in: {}", word);
            keep.emplace_back(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)));
        } else if (const char* v = std::getenv(std::string(word).c_str())) {
            keep.emplace_back(std::string(word), v);
        }
    }
    ::clearenv();
    for (const auto& [name, value] : keep)
        if (::setenv(name.c_str(), value.c_str(), 1) < 0)
            util::msg_fatal("setenv({}, {}): {}", name, value, std::strerror(errno));
}

uid_t owner_uid(const config::Config& cfg) {
    if (struct passwd* pw = ::getpwnam(cfg.get("mail_owner").c_str())) return pw->pw_uid;
    return static_cast<uid_t>(-1);
}

void check_acl(const config::Config& cfg, std::string_view parameter, std::string_view what) {
    uid_t uid = ::getuid();
    if (uid == 0 || uid == owner_uid(cfg)) return;
    if (auto denied = mail::check_user_acl(cfg.get(parameter), uid))
        util::msg_fatal("User {}({}) is not allowed to {}", *denied, static_cast<long>(uid), what);
}

bool write_all_stdout(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(1, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// stream_name: how the reference's warnings name the stream.
void print_listing(int fd, bool json, const config::Config& cfg, std::string stream_name) {
    bool utf8 = config::parse_bool_value(cfg.get("smtputf8_enable")).value_or(false);
    bool long_ids = config::parse_bool_value(cfg.get("enable_long_queue_ids")).value_or(false);
    postqueue::AttrStream in([fd](char* buf, std::size_t size) -> long {
        for (;;) {
            ssize_t n = ::read(fd, buf, size);
            if (n < 0 && errno == EINTR) continue;
            return static_cast<long>(n);
        }
    }, std::move(stream_name));
    postqueue::ListingOutput out(write_all_stdout);
    auto write = [&out](std::string_view bytes) { return out.write(bytes); };
    std::unique_ptr<postqueue::Listing> listing;
    if (json) listing = std::make_unique<postqueue::JsonListing>(write, utf8);
    else listing = std::make_unique<postqueue::MailqListing>(write, long_ids);
    listing->set_reserve([&out](std::size_t want) { out.reserve(want); });
    auto result = postqueue::read_listing(in, *listing, utf8, [&out] { out.flush_point(); });
    if (result == postqueue::ReadStatus::ok && !out.flush()) result = postqueue::ReadStatus::output_error;
    switch (result) {
    case postqueue::ReadStatus::ok: break;
    case postqueue::ReadStatus::malformed:
        // As the reference: what its output buffer still held is lost.
        (void)out.stop();
        util::msg_fatal("malformed showq server response");
    case postqueue::ReadStatus::output_error:
        if (errno != EPIPE) util::msg_fatal("output write error: {}", std::strerror(errno));
        break;
    }
}

void show_queue(const config::Config& cfg, bool json) {
    check_acl(cfg, "authorized_mailq_users", "view the mail queue");
    std::string service = cfg.get("showq_service_name");
    std::string mail_name = cfg.get("mail_name");
    std::string path = "public/" + service;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) util::msg_fatal("socket: {}", std::strerror(errno));
    struct sockaddr_un sun {};
    sun.sun_family = AF_UNIX;
    if (path.size() >= sizeof(sun.sun_path)) util::msg_fatal("unix-domain name too long: {}", path);
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<struct sockaddr*>(&sun), sizeof(sun)) == 0) {
        print_listing(fd, json, cfg, path + " socket");
        if (::close(fd) < 0) util::msg_warn("close: {}", std::strerror(errno));
        return;
    }
    int error = errno;
    ::close(fd);
    if (error == EACCES || error == EPERM)
        util::msg_fatal("Connect to the {} {} service: {}", mail_name, service, std::strerror(error));
    if (::geteuid() != 0)
        util::msg_fatal("Queue report unavailable - mail system is down (Connect to the {} {} service: {})",
                     mail_name, service, std::strerror(error));

    // Root, mail system down: run the daemon directly.
    util::msg_warn("Mail system is down -- accessing queue directly (Connect to the {} {} service: {})", mail_name,
                   service, std::strerror(error));
    std::string program = cfg.get("daemon_directory") + "/" + service;
    std::vector<std::string> args{program, "-u", "-S"};
    for (int n = 0; n < util::msg_verbose; ++n) args.emplace_back("-v");
    int pipe_fds[2];
    int status = -1;
    if (::pipe2(pipe_fds, O_CLOEXEC) == 0) {
        // A roomy pipe (best effort): showq then runs ahead instead of
        // waking us up for every 64 KB, which on a busy machine means
        // waiting for the CPU once per handover.
        (void)::fcntl(pipe_fds[0], F_SETPIPE_SZ, kShowqPipeSize);
        std::fflush(nullptr);
        pid_t pid = ::fork();
        if (pid == 0) {
            ::dup2(pipe_fds[1], 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(program.c_str(), argv.data());
            std::string text = fmt::format("postqueue: fatal: execvp {}: {}\n", program, std::strerror(errno));
            (void)!::write(2, text.data(), text.size());
            ::_exit(1);
        }
        ::close(pipe_fds[1]);
        if (pid > 0) {
            print_listing(pipe_fds[0], json, cfg, "unknown_stream");
            ::close(pipe_fds[0]);
            int wstatus = 0;
            while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {}
            status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 1;
        } else {
            ::close(pipe_fds[0]);
        }
    }
    if (status != 0) util::msg_fatal("Error running {}", program);
}

void flush_queue(const config::Config& cfg) {
    check_acl(cfg, "authorized_flush_users", "flush the mail queue");
    std::string queue_directory = cfg.get("queue_directory");
    // qmgr: forget dead destinations, ignore time stamps, scan deferred
    // and incoming; pickup: look at maildrop.
    if (!ipc::send_trigger(queue_directory, "public", cfg.get("queue_service_name"), "FADI", 10))
        util::msg_fatal("Cannot flush mail queue - mail system is down");
    if (!ipc::send_trigger(queue_directory, "public", cfg.get("pickup_service_name"), "W", 10))
        util::msg_fatal("Cannot flush mail queue - mail system is down");
}

[[noreturn]] void flush_site(const config::Config& cfg, const std::string& site) {
    check_acl(cfg, "authorized_flush_users", "flush the mail queue");
    auto status = ipc::flush_send_site(cfg, site);
    switch (status) {
    case ipc::FlushStatus::kOk: std::exit(0);
    case ipc::FlushStatus::kBad: util::msg_fatal("Invalid request: \"{}\"", site);
    case ipc::FlushStatus::kFail: util::msg_fatal("Cannot flush mail queue - mail system is down");
    case ipc::FlushStatus::kUnknown:
    case ipc::FlushStatus::kDeny:
        util::msg_fatal("Flush service is not configured for destination \"{}\"", site);
    }
    util::msg_fatal("Unknown flush server reply status {}", static_cast<int>(status));
}

[[noreturn]] void flush_file(const config::Config& cfg, const std::string& id) {
    check_acl(cfg, "authorized_flush_users", "flush the mail queue");
    auto status = ipc::flush_send_file(cfg, id);
    switch (status) {
    case ipc::FlushStatus::kOk: std::exit(0);
    case ipc::FlushStatus::kBad: util::msg_fatal("Invalid request: \"{}\"", id);
    case ipc::FlushStatus::kFail: util::msg_fatal("Cannot flush mail queue - mail system is down");
    default: break;
    }
    util::msg_fatal("Unexpected flush server reply status {}", static_cast<int>(status));
}

// "%.100s" and an ellipsis for long user input in messages.
std::string clip(const std::string& text) {
    return text.size() > 100 ? text.substr(0, 100) + "..." : text;
}

enum class Mode { none, list, json, flush_queue, flush_site, flush_file };

}  // namespace

int main(int argc, char** argv) {
    ::umask(022);
    config::open_standard_descriptors();
    // The program name is ours, not the user's.
    argv[0] = const_cast<char*>("postqueue");
    util::msg_set_program("postqueue");
    config::set_process_name("postqueue");
    install_log_sink(nullptr);

    Mode mode = Mode::none;
    std::string site;
    std::string id;
    int c;
    while ((c = ::getopt(argc, argv, "c:fi:jps:v")) > 0) {
        switch (c) {
        case 'c':
            if (::setenv("MAIL_CONFIG", optarg, 1) < 0) util::msg_fatal("out of memory");
            break;
        case 'f':
            if (mode != Mode::none) usage();
            mode = Mode::flush_queue;
            break;
        case 'i':
            if (mode != Mode::none) usage();
            mode = Mode::flush_file;
            id = optarg;
            break;
        case 'j':
            if (mode != Mode::none) usage();
            mode = Mode::json;
            break;
        case 'p':
            if (mode != Mode::none) usage();
            mode = Mode::list;
            break;
        case 's':
            if (mode != Mode::none) usage();
            mode = Mode::flush_site;
            site = optarg;
            break;
        case 'v':
            if (::geteuid() == 0) ++util::msg_verbose;
            break;
        default:
            usage();
        }
    }
    if (argc > optind) usage();

    const char* env = std::getenv("MAIL_CONFIG");
    std::string config_dir = env && *env ? env : kDefaultConfigDir;
    config::check_config_directory_allowed(config_dir);
    config::Config cfg(config_dir);
    try {
        cfg.load_main_cf(config_dir != kDefaultConfigDir);
        config::check_mail_params(cfg);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    bool utf8 = config::parse_bool_value(cfg.get("smtputf8_enable")).value_or(false);
    util::msg_set_utf8(utf8);
    install_log_sink(&cfg);
    clean_environment(cfg);
    std::string queue_directory = cfg.get("queue_directory");
    if (::chdir(queue_directory.c_str()) < 0)
        util::msg_fatal("chdir {}: {}", queue_directory, std::strerror(errno));
    std::signal(SIGPIPE, SIG_IGN);

    if (mode == Mode::flush_site) {
        bool bad = site.starts_with('[') ? !mail::valid_mailhost_literal(site, false)
                                         : !config::valid_hostname(site, false);
        if (bad) util::msg_fatal("Cannot flush mail queue - invalid destination: \"{}\"", clip(site));
    }
    if (mode == Mode::flush_file && !queue::is_queue_id(id))
        util::msg_fatal("Cannot flush queue ID - invalid name: \"{}\"", clip(id));

    switch (mode) {
    case Mode::list: show_queue(cfg, false); break;
    case Mode::json: show_queue(cfg, true); break;
    case Mode::flush_site: flush_site(cfg, site);
    case Mode::flush_file: flush_file(cfg, id);
    case Mode::flush_queue: flush_queue(cfg); break;
    case Mode::none: usage();
    }
    return 0;
}
