// postfix(1) commands: start, start-fg, stop, quick-stop, drain, abort,
// reload, status, flush, check, set-permissions, upgrade-configuration,
// logrotate; the reference's postfix-script behaviour and messages, as
// observed on 3.7.11 (see postfix_script.h).
#include "cmd/postfix/postfix_script.h"

#include "util/msg.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

extern char** environ;

namespace pf::postfix_cmd {

using util::msg_fatal;
using util::msg_info;
using util::msg_warn;

namespace {

std::string pid_path(const Context& ctx) {
    return ctx.queue_directory + "/" + ctx.config.get("process_id_directory") + "/master.pid";
}

// Waits up to ms milliseconds for master to let go of its lock.
bool wait_stopped(const Context& ctx, int ms) {
    for (int waited = 0; waited <= ms; waited += 50) {
        if (!master_running(ctx)) return true;
        ::poll(nullptr, 0, 50);
    }
    return !master_running(ctx);
}

void require_running(const Context& ctx) {
    if (!master_running(ctx)) msg_fatal("the Postfix mail system is not running");
}

int do_start(Context& ctx, bool foreground) {
    if (master_running(ctx)) msg_fatal("the Postfix mail system is already running");
    std::string quick = ctx.queue_directory + "/quick-start";
    if (::access(quick.c_str(), F_OK) == 0) {
        ::unlink(quick.c_str());
    } else {
        if (!check_fatal(ctx)) msg_fatal("Postfix integrity check failed!");
        check_warn(ctx);
    }
    msg_info("starting the Postfix mail system");
    std::string master = ctx.daemon_directory + "/master";
    if (!foreground) {
        if (run_program(master, {"master", "-w"}) != 0) msg_fatal("mail system startup failed");
        return 0;
    }
    if (::getpid() == 1) {
        std::vector<char*> argv = {const_cast<char*>("master"), const_cast<char*>("-i"), nullptr};
        ::execve(master.c_str(), argv.data(), environ);
        msg_fatal("cannot start-fg the master daemon");
    }
    return run_program(master, {"master", "-s"}) == 0 ? 0 : 1;
}

int do_stop(Context& ctx) {
    require_running(ctx);
    msg_info("stopping the Postfix mail system");
    long pid = master_pid(ctx);
    if (pid > 0) ::kill(static_cast<pid_t>(pid), SIGTERM);
    for (int i = 0; i < 5; ++i) {
        if (wait_stopped(ctx, 1000)) return 0;
        msg_info("waiting for the Postfix mail system to terminate");
    }
    msg_warn("stopping the Postfix mail system with force");
    if (pid > 0) ::kill(-static_cast<pid_t>(pid), SIGKILL);
    return 0;
}

int do_reload(Context& ctx) {
    require_running(ctx);
    msg_info("refreshing the Postfix mail system");
    std::string postsuper = ctx.command_directory + "/postsuper";
    bool have_postsuper = ::access(postsuper.c_str(), X_OK) == 0;
    if (have_postsuper && run_program(postsuper, {"postsuper", "active"}) != 0) return 1;
    long pid = master_pid(ctx);
    if (pid > 0) ::kill(static_cast<pid_t>(pid), SIGHUP);
    if (have_postsuper) run_program(postsuper, {"postsuper"}, false);
    return 0;
}

int do_logrotate(Context& ctx, const std::vector<std::string>& args) {
    if (!args.empty()) msg_fatal("usage postfix logrotate (no arguments)");
    std::string file = ctx.config.get("maillog_file");
    std::string compressor = ctx.config.get("maillog_file_compressor");
    std::string suffix_format = ctx.config.get("maillog_file_rotate_suffix");
    for (auto [name, value] : {std::pair{"maillog_file", &file}, std::pair{"maillog_file_compressor", &compressor},
                               std::pair{"maillog_file_rotate_suffix", &suffix_format}})
        if (value->empty()) msg_fatal("empty '{}' parameter value - logfile rotation failed", name);
    if (file.starts_with("/dev/")) msg_fatal("not rotating '{}'", file);
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    char suffix[256];
    std::size_t n = std::strftime(suffix, sizeof(suffix), suffix_format.c_str(), &tm);
    std::string rotated = file + "." + std::string(suffix, n);
    if (::rename(file.c_str(), rotated.c_str()) < 0)
        msg_fatal("logfile '{}' rotation failed: mv: cannot move '{}': {}", file, file, std::strerror(errno));
    // postlogd reopens the file when master restarts it (reload).
    if (master_running(ctx)) {
        long pid = master_pid(ctx);
        if (pid > 0) ::kill(static_cast<pid_t>(pid), SIGHUP);
    }
    std::string comp_path = compressor;
    if (comp_path.find('/') == std::string::npos) {
        for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"}) {
            if (::access((dir + compressor).c_str(), X_OK) == 0) {
                comp_path = dir + compressor;
                break;
            }
        }
    }
    // Give postlogd a moment to move to the new file before compressing.
    ::poll(nullptr, 0, 1000);
    if (run_program(comp_path, {compressor, rotated}) != 0)
        msg_fatal("logfile '{}' rotation failed: {} {} failed", file, compressor, rotated);
    return 0;
}

}  // namespace

bool master_running(const Context& ctx) {
    int fd = ::open(pid_path(ctx).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    bool locked = ::flock(fd, LOCK_EX | LOCK_NB) < 0;
    ::close(fd);
    return locked;
}

long master_pid(const Context& ctx) {
    std::ifstream in(pid_path(ctx));
    long pid = 0;
    if (!(in >> pid)) return 0;
    return pid;
}

int run_program(const std::string& path, const std::vector<std::string>& args, bool wait) {
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!wait) ::setsid();
        ::execve(path.c_str(), argv.data(), environ);
        msg_fatal("execute {}: {}", path, std::strerror(errno));
    }
    if (!wait) return 0;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int run_command(Context& ctx, const std::string& command, const std::vector<std::string>& args) {
    if (command == "start") return do_start(ctx, false);
    if (command == "start-fg") return do_start(ctx, true);
    if (command == "stop") return do_stop(ctx);
    if (command == "quick-stop") {
        int rc = do_stop(ctx);
        int fd = ::open((ctx.queue_directory + "/quick-start").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) ::close(fd);
        return rc;
    }
    if (command == "drain") {
        require_running(ctx);
        msg_info("stopping the Postfix mail system");
        if (long pid = master_pid(ctx); pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
        return 0;
    }
    if (command == "abort") {
        require_running(ctx);
        msg_info("aborting the Postfix mail system");
        if (long pid = master_pid(ctx); pid > 0) ::kill(static_cast<pid_t>(pid), SIGTERM);
        return 0;
    }
    if (command == "reload") return do_reload(ctx);
    if (command == "status") {
        if (!master_running(ctx)) {
            msg_info("the Postfix mail system is not running");
            return 1;
        }
        msg_info("the Postfix mail system is running: PID: {}", master_pid(ctx));
        return 0;
    }
    if (command == "flush") {
        if (::chdir(ctx.queue_directory.c_str()) < 0) msg_fatal("no Postfix queue directory {}!", ctx.queue_directory);
        return run_program(ctx.command_directory + "/postqueue", {"postqueue", "-f"}) == 0 ? 0 : 1;
    }
    if (command == "check") {
        if (!check_fatal(ctx)) return 1;
        check_warn(ctx);
        return 0;
    }
    if (command == "check-fatal") return check_fatal(ctx) ? 0 : 1;
    if (command == "check-warn") {
        check_warn(ctx);
        return 0;
    }
    if (command == "set-permissions") return set_permissions(ctx) ? 0 : 1;
    if (command == "upgrade-configuration") return create_missing(ctx) ? 0 : 1;
    if (command == "logrotate") return do_logrotate(ctx, args);
    msg_fatal("unknown command: '{}'. Usage: postfix start (or stop, reload, abort, flush, check, status, "
              "set-permissions, upgrade-configuration, logrotate)",
              command);
}

}  // namespace pf::postfix_cmd
