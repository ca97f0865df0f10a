// postsuper(1): queue maintenance for the superuser, as the reference
// 3.7.11:
//   postsuper [-psSv] [-c config_dir] [-d queue_id] [-e queue_id]
//             [-f queue_id] [-h queue_id] [-H queue_id] [-r queue_id]
//             [queue...]
// Root only ("use of this command is reserved for the superuser"), never
// set-uid. After reading main.cf it changes to queue_directory and drops to
// mail_owner for good, so that everything it creates belongs to the mail
// system and a compromised queue cannot lead it elsewhere as root.
// Repairs (-p, -s, -S; -s -p when nothing else is asked) run first over the
// named or default queues, twice when files had to be renamed to match
// their inodes (and then operations by queue ID are refused); the other
// operations then run in command-line order. The summary lines ("Deleted:
// N messages", ...) go to stderr and to the mail log, as does every
// "<id>: removed"-style line.
//
// Trust: the invoking user is root; queue IDs and queue names are command
// line input and are checked before use.
#include "cmd/postsuper/postsuper.h"

#include "config/config.h"
#include "config/host_defaults.h"
#include "config/mail_params.h"
#include "ipc/maillog_client.h"
#include "util/msg.h"
#include "util/privileges.h"
#include "util/strings.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace pf::postsuper {
namespace {

constexpr const char* kOptions = "+c:d:e:f:h:H:pr:sSv";

Context* g_context = nullptr;
bool g_finished = false;

bool repair_started() {
    if (g_context == nullptr) return false;
    const Counters& c = g_context->counters;
    return c.inode_mismatch > 0 || c.inode_fixed > 0 || c.position_mismatch > 0;
}

// A fatal error or a signal in the middle of a repair leaves the queue
// half-renamed: say so, after the error itself.
void warn_if_incomplete() {
    if (!g_finished && repair_started())
        util::msg_warn("OPERATION INCOMPLETE -- RERUN COMMAND TO FIX THE QUEUE FIRST");
}

extern "C" void interrupted(int sig) {
    // The SIGINT disposition doubles as a flag against nested calls.
    if (std::signal(SIGINT, SIG_IGN) != SIG_IGN) {
        std::signal(SIGQUIT, SIG_IGN);
        std::signal(SIGTERM, SIG_IGN);
        std::signal(SIGHUP, SIG_IGN);
        if (repair_started()) {
            g_finished = true;
            util::msg_warn("OPERATION INCOMPLETE -- RERUN COMMAND TO FIX THE QUEUE FIRST");
        }
        ::_exit(sig);
    }
}

void open_standard_descriptors() {
    for (int fd = 0; fd < 3; ++fd) {
        struct stat st;
        if (::fstat(fd, &st) == 0) continue;
        ::close(fd);
        if (::open("/dev/null", O_RDWR) != fd) util::msg_fatal("open /dev/null: {}", std::strerror(errno));
    }
}

void import_environment(const config::Config& cfg) {
    const std::string setting = cfg.get("import_environment");  // outlives the views
    for (auto word : util::split_tokens(setting, util::kListSeparators)) {
        auto eq = word.find('=');
        if (eq == std::string_view::npos) continue;
        std::string name(word.substr(0, eq));
        std::string value(word.substr(eq + 1));
        ::setenv(name.c_str(), value.c_str(), 1);
    }
}

[[noreturn]] void usage(const char* program) {
    util::msg_fatal(
        "usage: {} [-c config_dir] [-d queue_id (delete)] [-e queue_id (expire)] "
        "[-f queue_id (expire and/or un-hold)] [-h queue_id (hold)] [-H queue_id (un-hold)] "
        "[-p (purge temporary files)] [-r queue_id (requeue)] [-s (structure fix)] "
        "[-S (redundant structure fix)][-v (verbose)] [queue...]",
        program);
}

unsigned action_of(int option, std::string_view arg) {
    const bool all = arg == "ALL";
    switch (option) {
    case 'd': return all ? kDeleteAll : kDeleteOne;
    case 'e': return all ? kExpireAll : kExpireOne;
    case 'f': return all ? kExpRelAll : kExpRelOne;
    case 'h': return all ? kHoldAll : kHoldOne;
    case 'H': return all ? kReleaseAll : kReleaseOne;
    case 'r': return all ? kRequeueAll : kRequeueOne;
    default: return 0;
    }
}

using OneOperation = void (*)(Context&, const std::vector<std::string>&, const std::string&);

OneOperation one_operation(int option) {
    switch (option) {
    case 'd': return delete_one;
    case 'e': return expire_one;
    case 'f': return expire_release_one;
    case 'h': return hold_one;
    case 'H': return release_one;
    case 'r': return requeue_one;
    default: return nullptr;
    }
}

// Queue IDs from standard input, one per line (the last may lack its
// newline).
void operate_stream(Context& ctx, OneOperation operation, const std::vector<std::string>& queues) {
    std::string line;
    while (std::getline(std::cin, line)) operation(ctx, queues, line);
}

void report(const char* what, int count) {
    util::msg_info("{}: {} message{}", what, count, count != 1 ? "s" : "");
}

int run(int argc, char** argv) {
    ::umask(022);
    open_standard_descriptors();
    const bool unsafe = ::getuid() != ::geteuid() || ::getgid() != ::getegid();
    if (!unsafe && std::getenv("MAIL_VERBOSE") != nullptr) util::msg_verbose = 1;
    if (const char* slash = std::strrchr(argv[0], '/'); slash != nullptr && slash[1] != 0)
        argv[0] = const_cast<char*>(slash + 1);
    util::msg_set_program(argv[0]);
    config::set_process_name(argv[0]);
    {
        // Until main.cf is read, log with the built-in settings.
        config::Config defaults{std::string(config::kDefaultConfigDirectory)};
        ipc::maillog_client_init(defaults, ipc::mail_task(defaults, argv[0]), ipc::kMaillogDirectFallback);
    }
    if (unsafe) util::msg_fatal("this postfix command must not run as a set-uid process");
    if (::getuid() != 0) util::msg_fatal("use of this command is reserved for the superuser");

    // First find out what is asked for; the operations run later, in this
    // order.
    std::vector<std::pair<int, std::string>> requests;
    unsigned action = 0;
    int c;
    while ((c = ::getopt(argc, argv, kOptions)) > 0) {
        switch (c) {
        case 'c':
            if (*optarg != '/') util::msg_fatal("-c requires absolute pathname");
            if (::setenv("MAIL_CONFIG", optarg, 1) < 0) util::msg_fatal("setenv: {}", std::strerror(errno));
            break;
        case 'd': case 'e': case 'f': case 'h': case 'H': case 'r':
            action |= action_of(c, optarg);
            requests.emplace_back(c, optarg);
            break;
        case 'p': action |= kPurge; break;
        case 'S': action |= kStructRed | kStruct; break;
        case 's': action |= kStruct; break;
        case 'v': ++util::msg_verbose; break;
        default: usage(argv[0]);
        }
    }

    const char* env_dir = std::getenv("MAIL_CONFIG");
    config::Config cfg(config::resolve_config_directory(nullptr));
    cfg.load_main_cf(env_dir != nullptr && *env_dir != 0);
    config::check_mail_params(cfg);
    // The reference works out mynetworks while reading main.cf, which
    // shows in its verbose output.
    if (util::msg_verbose) (void)cfg.get("mynetworks");
    import_environment(cfg);
    ipc::maillog_client_init(cfg, ipc::mail_task(cfg, argv[0]), ipc::kMaillogDirectFallback);

    Context ctx;
    ctx.layout = queue::QueueLayout::from_config(cfg);
    if (::chdir(ctx.layout.queue_directory.c_str()) != 0)
        util::msg_fatal("chdir {}: {}", ctx.layout.queue_directory, std::strerror(errno));

    // Every change to the queue is made as the mail system's owner.
    const std::string owner = cfg.get("mail_owner");
    auto account = util::lookup_account(owner);
    if (!account) util::msg_fatal("{}", account.error());
    if (auto dropped = util::drop_privileges(account->uid, account->gid, "", "."); !dropped)
        util::msg_fatal("{}", dropped.error());

    g_context = &ctx;
    std::atexit(warn_if_incomplete);
    std::signal(SIGINT, interrupted);
    std::signal(SIGQUIT, interrupted);
    if (std::signal(SIGTERM, SIG_IGN) == SIG_DFL) std::signal(SIGTERM, interrupted);
    if (std::signal(SIGHUP, SIG_IGN) == SIG_DFL) std::signal(SIGHUP, interrupted);

    if (action == 0) action = kDefaultActions;
    std::vector<std::string> queues;
    if (optind < argc) queues.assign(argv + optind, argv + argc);
    else queues = default_queues();

    // Repairs first, so that files are where their names say before
    // anything else happens; a second pass finishes "#FIX" renames.
    if (action & kActionsForRepair) scan_queues(ctx, queues, action & kActionsForRepair);
    if (ctx.counters.inode_mismatch > 0) scan_queues(ctx, queues, action & kActionsForRepair);

    // A file renamed to match its inode may now carry an ID that was given
    // for another message: do nothing by ID.
    if ((action & kActionsById) && (ctx.counters.inode_mismatch > 0 || ctx.counters.inode_fixed > 0)) {
        util::msg_error("QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS");
        util::msg_fatal("CHECK YOUR QUEUE IDS AND RE-ISSUE THE COMMAND");
    }

    for (const auto& [option, arg] : requests) {
        if (arg == "ALL") scan_queues(ctx, queues, action_of(option, arg));
        else if (arg == "-") operate_stream(ctx, one_operation(option), queues);
        else one_operation(option)(ctx, queues, arg);
    }

    const Counters& n = ctx.counters;
    if (action & (kRequeueOne | kRequeueAll)) report("Requeued", n.requeued);
    if (action & (kDeleteOne | kDeleteAll)) report("Deleted", n.deleted);
    if (action & (kExpireOne | kExpireAll | kExpRelOne | kExpRelAll)) report("Force-expired", n.expired);
    if (action & (kHoldOne | kHoldAll)) report("Placed on hold", n.held);
    if (action & (kReleaseOne | kReleaseAll | kExpRelOne | kExpRelAll)) report("Released from hold", n.released);
    if (n.inode_fixed > 0) report("Renamed to match inode number", n.inode_fixed);
    if (n.inode_mismatch > 0 || n.inode_fixed > 0) util::msg_warn("QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS");
    g_finished = true;
    return 0;
}

}  // namespace
}  // namespace pf::postsuper

int main(int argc, char** argv) {
    try {
        return pf::postsuper::run(argc, argv);
    } catch (const std::exception& e) {
        pf::util::msg_fatal("{}", e.what());
    }
}
