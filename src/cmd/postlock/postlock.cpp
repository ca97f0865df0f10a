// postlock(1): lock a mailbox file the way local(8) does, run a command
// while holding the lock, release it, exit with the command's status.
// As the reference 3.7.11:
//   postlock [-c config_dir] [-l lock_style] [-v] file command...
//   diagnostics on stderr, prefixed with argv[0] exactly as given; every
//   fatal error of postlock itself exits 75 (EX_TEMPFAIL); a command that
//   cannot be executed: "fatal: execvp <cmd>: <errno>" from the child,
//   exit 1; a command killed by a signal: exit 1; otherwise the command's
//   own exit status. The lock styles are -l's value (an empty one: no
//   lock) or mailbox_delivery_lock (an empty one is fatal). The command
//   sees MAIL_CONFIG (from -c), MAIL_LOGTAG = $syslog_name and LANG=C in
//   its environment, as the reference's start-up exports them.
//
// Trust: any local user may run it (no privileges: it is not set-uid);
// the file and the command are theirs. The command runs with execvp, no
// shell.
#include "cmd/postlock/postlock_mbox.h"
#include "config/config.h"
#include "config/host_defaults.h"
#include "config/mail_params.h"
#include "mailbox/mailbox.h"
#include "util/msg.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace {

constexpr int kExTempfail = 75;

// In postlock itself (not in the command's child) a fatal error exits
// with EX_TEMPFAIL at once, as the reference's cleanup handler makes it.
void tempfail_on_fatal(pf::util::MsgLevel level, std::string_view text) {
    if (level != pf::util::MsgLevel::fatal && level != pf::util::MsgLevel::panic) return;
    std::fflush(stdout);
    std::string line = pf::util::msg_program() + ": fatal: " + std::string(text) + "\n";
    (void)!::write(2, line.data(), line.size());
    ::_exit(kExTempfail);
}

void open_standard_descriptors() {
    for (int fd = 0; fd < 3; ++fd) {
        struct stat st;
        if (::fstat(fd, &st) == -1 && (::close(fd), ::open("/dev/null", O_RDWR, 0)) != fd)
            pf::util::msg_fatal("open /dev/null: {}", std::strerror(errno));
    }
}

[[noreturn]] void usage(const char* myname) {
    pf::util::msg_fatal("usage: {} [-c config_dir] [-l lock_style] [-v] folder command...", myname);
}

int int_param(const pf::config::Config& cfg, const char* name) {
    auto n = pf::config::parse_int_value(cfg.get(name), 1LL << 30);
    return n ? static_cast<int>(*n) : 1;
}

int time_param(const pf::config::Config& cfg, const char* name) {
    auto t = pf::config::parse_time_value(cfg.get(name), 's');
    return t ? *t : 1;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace pf;
    ::umask(022);
    open_standard_descriptors();
    if (std::getenv("MAIL_VERBOSE")) util::msg_verbose = 1;
    util::msg_set_program(argv[0]);
    util::msg_set_sink(tempfail_on_fatal);
    // The reference never names this process: $process_name is empty.
    config::set_process_name("");

    const char* lock_style = nullptr;
    int c;
    while ((c = ::getopt(argc, argv, "+c:l:v")) > 0) {
        switch (c) {
        case 'c':
            if (::setenv("MAIL_CONFIG", optarg, 1) < 0) util::msg_fatal("out of memory");
            break;
        case 'l': lock_style = optarg; break;
        case 'v': ++util::msg_verbose; break;
        default: usage(argv[0]);
        }
    }
    if (optind + 2 > argc) usage(argv[0]);
    std::string folder = argv[optind];
    char** command = argv + optind + 1;

    const char* env_config = std::getenv("MAIL_CONFIG");
    config::Config cfg(config::resolve_config_directory(nullptr));
    try {
        cfg.load_main_cf(env_config != nullptr && *env_config);
        config::check_mail_params(cfg);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    // What the reference's start-up exports to the programs it runs.
    std::string logtag = cfg.get("syslog_name");
    const char* old_tag = std::getenv("MAIL_LOGTAG");
    if ((old_tag == nullptr || logtag != old_tag) && ::setenv("MAIL_LOGTAG", logtag.c_str(), 1) < 0)
        util::msg_fatal("setenv: {}", std::strerror(errno));
    if (::setenv("LANG", "C", 1) < 0) util::msg_fatal("setenv: {}", std::strerror(errno));

    std::string styles_text;
    if (lock_style != nullptr) {
        styles_text = lock_style;
    } else {
        styles_text = cfg.get("mailbox_delivery_lock");
        if (styles_text.empty()) util::msg_fatal("bad string length 0 < 1: mailbox_delivery_lock = ");
    }
    auto styles = mailbox::parse_lock_styles(styles_text, "mailbox_delivery_lock");
    if (!styles) util::msg_fatal("{}", styles.error());

    mailbox::LockRetry retry{int_param(cfg, "deliver_lock_attempts"), time_param(cfg, "deliver_lock_delay"),
                             time_param(cfg, "stale_lock_time")};
    auto hold = postlock::open_and_lock(folder, *styles, retry);
    if (!hold) util::msg_fatal("open file {}: {}", folder, hold.error());

    const int fork_attempts = int_param(cfg, "fork_attempts");
    const int fork_delay = time_param(cfg, "fork_delay");
    pid_t pid;
    for (int count = 1; (pid = ::fork()) == -1; ++count) {
        util::msg_warn("fork {}: {}", command[0], std::strerror(errno));
        if (count >= fork_attempts) {
            hold->release();
            std::exit(kExTempfail);
        }
        ::sleep(static_cast<unsigned>(fork_delay));
    }
    if (pid == 0) {
        // The command's own failures are plain fatal errors (exit 1).
        util::msg_set_sink({});
        ::execvp(command[0], command);
        util::msg_fatal("execvp {}: {}", command[0], std::strerror(errno));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) util::msg_fatal("waitpid: {}", std::strerror(errno));
    }
    hold->release();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
