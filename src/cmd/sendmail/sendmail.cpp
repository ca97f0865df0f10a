// sendmail(1), mailq(1), newaliases(1): the reference's Sendmail
// compatibility command. Options are read as the reference reads them
// (getopt without reordering, "-q" alone, "-V xy" and "-Vxy" as the old
// VERP spellings), the mode is chosen by the program name and by -b/-I/-q,
// and the work is handed on: a message to postdrop(1) through a pipe (see
// postdrop_protocol.h), the queue listing and flushes to postqueue(1),
// alias rebuilds to postalias(1), daemon mode to "postfix start", SMTP
// stand-alone mode to smtpd(8) -S. Every fatal error exits with 75
// (EX_TEMPFAIL), as the reference's run-time error handler makes it.
//
// Trust: the command line, the environment and standard input are the
// user's; this program has no privileges (postdrop checks and writes).
#include "ipc/postdrop_protocol.h"
#include "cmd/sendmail/sendmail_message.h"
#include "ipc/submit_log.h"
#include "mail/user_acl.h"
#include "config/command_start.h"
#include "config/config_directory_check.h"
#include "config/config.h"
#include "config/mail_params.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace pf::sendmail {
namespace {

enum class Mode { enqueue, newalias, mailq, daemon, user, flushq, ignore };

constexpr int kExTempfail = 75;
constexpr int kTraceVerify = 512;   // -bv
constexpr int kTraceRecord = 1024;  // -v

// The postdrop child, waited for when a fatal error ends this program so
// that its cleanup (removing the unfinished file) is done when we exit.
pid_t g_postdrop_pid = -1;
std::FILE* g_postdrop_out = nullptr;

void fatal_hook(util::MsgLevel level, std::string_view text) {
    if (level != util::MsgLevel::fatal && level != util::MsgLevel::panic) return;
    std::fflush(stdout);
    std::string line = util::msg_program() + ": fatal: " + std::string(text) + "\n";
    (void)!::write(2, line.data(), line.size());
    if (g_postdrop_pid > 0) {
        if (g_postdrop_out) std::fclose(g_postdrop_out);
        int status;
        while (::waitpid(g_postdrop_pid, &status, 0) < 0 && errno == EINTR) {}
    }
    ::_exit(kExTempfail);
}

void open_standard_descriptors() {
    int fd = 0;
    for (; fd < 3; ++fd) {
        struct stat st;
        if (::fstat(fd, &st) == -1) {
            ::close(fd);
            if (::open("/dev/null", O_RDWR) != fd) util::msg_fatal("open /dev/null: {}", std::strerror(errno));
        }
    }
    // A parent's leaked descriptors would keep a notification pipe open.
    if (::close_range(3, 99, 0) != 0)
        for (; fd < 100; ++fd) ::close(fd);
}

[[noreturn]] void run_replace(const std::string& dir, std::vector<std::string> args) {
    std::string path = dir + "/" + args[0];
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    util::msg_fatal("execv {}: {}", path, std::strerror(errno));
}

// "postfix start" in the background; the result is whether fork worked.
bool run_background(const std::string& dir, std::vector<std::string> args) {
    std::string path = dir + "/" + args[0];
    pid_t pid = ::fork();
    if (pid < 0) {
        util::msg_warn("fork {}: {}", path, std::strerror(errno));
        return false;
    }
    if (pid == 0) {
        util::msg_set_sink({});
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(path.c_str(), argv.data());
        util::msg_fatal("execv {}: {}", path, std::strerror(errno));
    }
    return true;
}

struct Settings {
    std::string command_directory;
    std::string daemon_directory;
    std::string alias_database;
    std::string submit_acl;
    std::string fix_eol;
    std::string verp_delims;
    std::string verp_filter;
    std::size_t line_limit = 2048;
    std::size_t header_limit = 102400;
};

bool verp_ok(std::string_view delims, std::string_view filter) {
    if (delims.size() != 2) return false;
    for (char c : delims)
        if (filter.find(c) == std::string_view::npos) return false;
    return true;
}

std::string login_name() {
    uid_t uid = ::getuid();
    struct passwd* pw = ::getpwuid(uid);
    if (pw == nullptr) util::msg_fatal("no login name found for user ID {}", static_cast<unsigned long>(uid));
    return pw->pw_name;
}

// The sender's full name from NAME or the password file's GECOS field
// (up to the first comma, '&' as the capitalised login name).
std::optional<std::string> full_name() {
    if (const char* name = std::getenv("NAME"); name && *name) return std::string(name);
    struct passwd* pw = ::getpwuid(::getuid());
    if (pw == nullptr || pw->pw_gecos == nullptr) return std::nullopt;
    std::string out;
    for (const char* p = pw->pw_gecos; *p && *p != ','; ++p) {
        if (*p == '&') {
            std::string login = pw->pw_name;
            if (!login.empty()) login[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(login[0])));
            out += login;
        } else {
            out += *p;
        }
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// postdrop with to_child[0] as its standard input and from_child[1] as
// its standard output, the pipes' other ends closed in it; -1 when it
// could not be started.
pid_t spawn_postdrop(std::vector<char*>& argv, const int to_child[2], const int from_child[2]) {
    posix_spawn_file_actions_t actions;
    if (::posix_spawn_file_actions_init(&actions) != 0) return -1;
    bool ok = ::posix_spawn_file_actions_adddup2(&actions, to_child[0], 0) == 0 &&
              ::posix_spawn_file_actions_adddup2(&actions, from_child[1], 1) == 0;
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]})
        ok = ok && ::posix_spawn_file_actions_addclose(&actions, fd) == 0;
    pid_t pid = -1;
    if (ok && ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
    ::posix_spawn_file_actions_destroy(&actions);
    return ok ? pid : -1;
}

struct Enqueue {
    Envelope env;
    CopyOptions copy;
    bool sender_given = false;
    std::string sender_arg;
};

void enqueue(Enqueue& job, const Settings& settings, int verbose) {
    uid_t uid = ::getuid();
    if (auto denied = mail::check_user_acl(settings.submit_acl, uid))
        util::msg_fatal("User {}({}) is not allowed to submit mail", *denied, static_cast<long>(uid));
    if (job.sender_given) {
        auto addrs = parse_addresses(job.sender_arg);
        job.env.sender = addrs.empty() ? std::string() : addrs.front();
        if (addrs.size() > 1) util::msg_warn("-f option specified malformed sender: {}", job.sender_arg);
    } else {
        job.env.sender = login_name();
    }
    const std::string who = fmt::format("{}({})", job.env.sender, static_cast<long>(uid));
    if (!job.env.full_name) job.env.full_name = full_name();

    // postdrop, with our pipes as its standard input and output.
    std::string command = settings.command_directory + "/postdrop";
    std::string shown = command + " -r";
    for (int i = 0; i < verbose; ++i) shown += " -v";
    int to_child[2], from_child[2];
    if (::pipe(to_child) < 0 || ::pipe(from_child) < 0) util::msg_fatal("pipe: {}", std::strerror(errno));
    std::vector<std::string> args{command, "-r"};
    for (int i = 0; i < verbose; ++i) args.emplace_back("-v");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // posix_spawn shares our memory until postdrop is executed, where fork
    // would copy the page tables and make every page we write afterwards
    // a copy-on-write fault. When it cannot run postdrop, the fork below
    // tries again and reports the failure as it always has.
    pid_t pid = spawn_postdrop(argv, to_child, from_child);
    if (pid < 0) pid = ::fork();
    if (pid < 0) util::msg_fatal("fork: {}", std::strerror(errno));
    if (pid == 0) {
        util::msg_set_sink({});
        ::dup2(to_child[0], 0);
        ::dup2(from_child[1], 1);
        ::close(to_child[0]); ::close(to_child[1]);
        ::close(from_child[0]); ::close(from_child[1]);
        ::execvp(argv[0], argv.data());
        util::msg_fatal("execvp {}: {}", command, std::strerror(errno));
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    std::FILE* out = ::fdopen(to_child[1], "w");
    std::FILE* in = ::fdopen(from_child[0], "r");
    g_postdrop_pid = pid;
    g_postdrop_out = out;
    auto hello = ipc::postdrop::read_attrs0(in);
    if (!hello || ipc::postdrop::find_attr(*hello, "protocol") != ipc::postdrop::kProtocolName ||
        !ipc::postdrop::find_attr(*hello, "queue_id")) {
        std::fclose(out);
        g_postdrop_out = nullptr;
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        g_postdrop_pid = -1;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        if (code != 0) util::msg_warn("command \"{}\" exited with status {}", shown, code);
        util::msg_fatal("{}: unable to execute {}: Application error", who, shown);
    }

    RecordSink sink = [out](char type, std::string_view data) {
        return queue::write_record(out, type, data);
    };
    auto fail = [&](const CopyError& e) { util::msg_fatal("{}: {}", who, e.text); };
    auto envelope = write_envelope(job.env, sink);
    if (!envelope) fail(envelope.error());
    auto extracted = copy_content(stdin, job.env, job.copy, sink);
    if (!extracted) fail(extracted.error());
    if (*envelope + *extracted == 0)
        util::msg_fatal("{}: {}", who,
                        job.copy.extract ? "No recipient addresses found in message header"
                                         : "Recipient addresses must be specified on the command line or via the -t option");
    if (!sink(queue::rec::kEnd, "")) fail(CopyError{CopyError::write, std::string("error writing queue file: ") + std::strerror(errno)});
    if (std::ferror(stdin)) util::msg_fatal("{}: error reading input: {}", who, std::strerror(errno));

    unsigned status = ipc::postdrop::kStatWrite;
    std::string why;
    if (std::fflush(out) == 0) {
        if (auto done = ipc::postdrop::read_attrs0(in)) {
            auto s = ipc::postdrop::find_attr(*done, "status");
            auto r = ipc::postdrop::find_attr(*done, "reason");
            if (s && r) {
                status = static_cast<unsigned>(std::strtoul(std::string(*s).c_str(), nullptr, 10));
                why = std::string(*r);
            }
        }
    }
    std::fclose(out);
    g_postdrop_out = nullptr;
    std::fclose(in);
    int wstatus;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {}
    g_postdrop_pid = -1;
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) util::msg_warn("mail_stream_cleanup: close error");
    if (status != 0)
        util::msg_fatal("{}: {}", who, why.empty() ? std::string(ipc::postdrop::status_text(status)) : why);
    if (job.env.trace_flags) {
        std::printf("Mail Delivery Status Report will be mailed to <%s>.\n", job.env.sender.c_str());
        std::fflush(stdout);
    }
}

constexpr const char* kOptions = "+A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx";

int run(int argc, char** argv) {
    ::umask(022);
    open_standard_descriptors();
    if (std::getenv("MAIL_VERBOSE")) util::msg_verbose = 1;
    if (argc > 0 && argv[0]) {
        if (const char* slash = std::strrchr(argv[0], '/'); slash && slash[1]) argv[0] = const_cast<char*>(slash + 1);
    }
    const std::string program = argc > 0 && argv[0] ? argv[0] : "sendmail";
    util::msg_set_program(program);
    util::msg_set_sink(fatal_hook);

    if (::geteuid() == 0 && ::getuid() != 0) {
        util::msg_warn("the Postfix sendmail command has set-uid root file permissions");
        util::msg_warn("or the command is run from a set-uid root process");
        util::msg_warn("the Postfix sendmail command must be installed without set-uid root file permissions");
        if (::setgid(::getgid()) < 0 || ::setuid(::getuid()) < 0) util::msg_fatal("setuid: {}", std::strerror(errno));
    }

    // Pre-scan for -C, so that the right main.cf is read first.
    int saved_optind = optind;
    while (argv[optind > 0 ? optind : 1] != nullptr) {
        if (std::strcmp(argv[optind > 0 ? optind : 1], "-q") == 0) {
            ++optind;
            continue;
        }
        int c = ::getopt(argc, argv, kOptions);
        if (c <= 0) break;
        if (c == 'C') {
            std::string dir = optarg;
            std::string_view base = dir;
            if (auto slash = base.rfind('/'); slash != std::string_view::npos) base = base.substr(slash + 1);
            if (base == "main.cf") {
                auto slash = dir.rfind('/');
                dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
            }
            // An ordinary user may name only a directory that the default
            // main.cf allows (alternate_config_directories), as the
            // reference's sendmail checks it.
            config::check_config_directory_allowed(dir, true);
            if (::setenv("MAIL_CONFIG", dir.c_str(), 1) < 0) util::msg_fatal("out of memory");
        }
    }
    optind = saved_optind;

    Settings settings;
    {
        const char* env_dir = std::getenv("MAIL_CONFIG");
        config::Config cfg(config::resolve_config_directory(nullptr));
        cfg.load_main_cf(env_dir && *env_dir);
        config::check_mail_params(cfg);
        ipc::submit_log_init(cfg, "sendmail", fatal_hook);
        config::import_environment(cfg);
        settings.command_directory = cfg.get("command_directory");
        settings.daemon_directory = cfg.get("daemon_directory");
        settings.alias_database = cfg.get("alias_database");
        settings.submit_acl = cfg.get("authorized_submit_users");
        settings.fix_eol = cfg.get("sendmail_fix_line_endings");
        settings.verp_delims = cfg.get("default_verp_delimiters");
        settings.verp_filter = cfg.get("verp_delimiter_filter");
        settings.line_limit = static_cast<std::size_t>(std::stoll(cfg.get("line_length_limit")));
        settings.header_limit = static_cast<std::size_t>(std::stoll(cfg.get("header_size_limit")));
        std::string queue_dir = cfg.get("queue_directory");
        if (::chdir(queue_dir.c_str()) != 0) util::msg_fatal("chdir {}: {}", queue_dir, std::strerror(errno));
    }
    ::signal(SIGPIPE, SIG_IGN);

    Mode mode = Mode::enqueue;
    if (program == "mailq") mode = Mode::mailq;
    else if (program == "newaliases") mode = Mode::newalias;
    else if (program == "smtpd") mode = Mode::daemon;

    Enqueue job;
    std::string verp_storage;
    const char* site_to_flush = nullptr;
    const char* id_to_flush = nullptr;
    const char* qtime = nullptr;
    const char* alias_map = nullptr;
    std::string rewritten;  // storage for the "-XV..." respelling
    auto arg = [&]() -> char*& { return argv[optind > 0 ? optind : 1]; };
    while (arg() != nullptr) {
        if (std::strcmp(arg(), "-q") == 0) {
            if (mode == Mode::daemon) util::msg_warn("ignoring -q option in daemon mode");
            else mode = Mode::flushq;
            ++optind;
            continue;
        }
        if (std::strcmp(arg(), "-V") == 0 && argv[(optind > 0 ? optind : 1) + 1] != nullptr &&
            std::strlen(argv[(optind > 0 ? optind : 1) + 1]) == 2) {
            util::msg_warn("option -V is deprecated with Postfix 2.3; specify -XV instead");
            arg() = const_cast<char*>("-XV");
        }
        if (std::strncmp(arg(), "-V", 2) == 0 && std::strlen(arg()) == 4) {
            util::msg_warn("option {} is deprecated with Postfix 2.3; specify -X{} instead", arg(), arg() + 1);
            rewritten = std::string("-X") + (arg() + 1);
            arg() = rewritten.data();
        }
        if (std::strcmp(arg(), "-XV") == 0) {
            job.env.verp = settings.verp_delims;
            ++optind;
            continue;
        }
        int c = ::getopt(argc, argv, kOptions);
        if (c <= 0) break;
        switch (c) {
        default:
            if (util::msg_verbose) util::msg_info("-{} option ignored", static_cast<char>(c));
            break;
        case 'n':
            util::msg_fatal("-{} option not supported", static_cast<char>(c));
        case 'B':
            if (std::strcmp(optarg, "8BITMIME") == 0) job.env.encoding = "8bit";
            else if (std::strcmp(optarg, "7BIT") == 0) job.env.encoding = "7bit";
            else util::msg_fatal("-B option needs 8BITMIME or 7BIT");
            break;
        case 'F': job.env.full_name = optarg; break;
        case 'G': job.env.rewrite_context = "remote"; break;
        case 'I': mode = Mode::newalias; break;
        case 'N':
            if ((job.env.dsn_notify = dsn_notify_mask(optarg)) == 0) util::msg_warn("bad -N option value -- ignored");
            break;
        case 'R':
            if ((job.env.dsn_ret = dsn_ret_code(optarg)) == 0) util::msg_warn("bad -R option value -- ignored");
            break;
        case 'V': {
            std::string_view v = optarg;
            bool printable = true;
            for (unsigned char ch : v)
                if (ch < 0x20 || ch >= 0x7f) printable = false;
            if (v.size() > 100) util::msg_warn("too long -V option value -- ignored");
            else if (!printable) util::msg_warn("bad syntax in -V option value -- ignored");
            else job.env.dsn_envid = std::string(v);
            break;
        }
        case 'X':
            if (*optarg != 'V') util::msg_fatal("unsupported: -{}{}", static_cast<char>(c), std::string(optarg, *optarg ? 1 : 0));
            if (!verp_ok(optarg + 1, settings.verp_filter))
                util::msg_fatal("-V requires two characters from {}", settings.verp_filter);
            job.env.verp = std::string(optarg + 1);
            break;
        case 'b':
            switch (*optarg) {
            default:
                util::msg_fatal("unsupported: -{}{}", static_cast<char>(c), std::string(optarg, *optarg ? 1 : 0));
            case 'd':
            case 'l':
                if (mode == Mode::flushq) util::msg_warn("ignoring -q option in daemon mode");
                mode = Mode::daemon;
                break;
            case 'h':
            case 'H': mode = Mode::ignore; break;
            case 'i': mode = Mode::newalias; break;
            case 'm': mode = Mode::enqueue; break;
            case 'p': mode = Mode::mailq; break;
            case 's': mode = Mode::user; break;
            case 'v': job.env.trace_flags |= kTraceVerify; break;
            }
            break;
        case 'f':
        case 'r':
            job.sender_given = true;
            job.sender_arg = optarg;
            break;
        case 'i': job.copy.archaic_eof = false; break;
        case 'o':
            switch (*optarg) {
            default:
                if (util::msg_verbose) util::msg_info("-{}{} option ignored", static_cast<char>(c), std::string(optarg, *optarg ? 1 : 0));
                break;
            case 'A':
                if (optarg[1] == 0) util::msg_fatal("-oA requires pathname");
                alias_map = optarg + 1;
                break;
            case '7':
            case '8':
            case 'm': break;
            case 'i': job.copy.archaic_eof = false; break;
            }
            break;
        case 'q':
            if (std::isdigit(static_cast<unsigned char>(optarg[0]))) {
                qtime = optarg;
            } else if (optarg[0] == 'R') {
                site_to_flush = optarg + 1;
                if (*site_to_flush == 0) util::msg_fatal("specify: -qRsitename");
            } else if (optarg[0] == 'I') {
                id_to_flush = optarg + 1;
                if (*id_to_flush == 0) util::msg_fatal("specify: -qIqueueid");
            } else {
                util::msg_fatal("-q{} is not implemented", std::string(optarg, 1));
            }
            break;
        case 't': job.copy.extract = true; break;
        case 'v': ++util::msg_verbose; break;
        case '?': util::msg_fatal("usage: {} [options]", program);
        }
    }

    if (job.copy.extract && mode != Mode::enqueue) util::msg_fatal("-t can be used only in delivery mode");
    if (site_to_flush && mode != Mode::enqueue) util::msg_fatal("-qR can be used only in delivery mode");
    if (id_to_flush && mode != Mode::enqueue) util::msg_fatal("-qI can be used only in delivery mode");
    if (job.env.trace_flags & kTraceVerify) {
        if (job.copy.extract) util::msg_fatal("-t option cannot be used with -bv");
        if (job.env.dsn_notify) util::msg_fatal("-N option cannot be used with -bv");
        if (job.env.dsn_ret) util::msg_fatal("-R option cannot be used with -bv");
        if (util::msg_verbose == 1) util::msg_fatal("-v option cannot be used with -bv");
    }
    if (util::msg_verbose == 1 && mode == Mode::enqueue) {
        util::msg_verbose = 0;
        job.env.trace_flags |= kTraceRecord;
    }
    const int verbose = util::msg_verbose;
    auto add_verbose = [&](std::vector<std::string>& args) {
        for (int n = 0; n < verbose; ++n) args.emplace_back("-v");
    };
    char** rest = argv + (optind > 0 ? optind : 1);

    if (qtime && mode != Mode::daemon) return 0;
    switch (mode) {
    case Mode::enqueue:
        if (site_to_flush) {
            if (*rest) util::msg_fatal("flush site requires no recipient");
            std::vector<std::string> args{"postqueue", "-s", site_to_flush};
            add_verbose(args);
            run_replace(settings.command_directory, args);
        }
        if (id_to_flush) {
            if (*rest) util::msg_fatal("flush queue_id requires no recipient");
            std::vector<std::string> args{"postqueue", "-i", id_to_flush};
            add_verbose(args);
            run_replace(settings.command_directory, args);
        }
        for (char** p = rest; *p; ++p) job.env.recipients.emplace_back(*p);
        job.copy.probe = (job.env.trace_flags & kTraceVerify) != 0;
        job.copy.line_limit = settings.line_limit;
        job.copy.header_limit = settings.header_limit;
        if (settings.fix_eol == "always") job.copy.fix_eol = FixEol::always;
        else if (settings.fix_eol == "strict") job.copy.fix_eol = FixEol::strict;
        else if (settings.fix_eol == "never") job.copy.fix_eol = FixEol::never;
        else util::msg_fatal("invalid sendmail_fix_line_endings value: {}", settings.fix_eol);
        enqueue(job, settings, verbose);
        return 0;
    case Mode::mailq: {
        if (*rest) util::msg_fatal("display queue mode requires no recipient");
        std::vector<std::string> args{"postqueue", "-p"};
        add_verbose(args);
        run_replace(settings.command_directory, args);
    }
    case Mode::flushq: {
        if (*rest) util::msg_fatal("flush queue mode requires no recipient");
        std::vector<std::string> args{"postqueue", "-f"};
        add_verbose(args);
        run_replace(settings.command_directory, args);
    }
    case Mode::daemon: {
        if (*rest) util::msg_fatal("daemon mode requires no recipient");
        std::vector<std::string> args{"postfix"};
        add_verbose(args);
        args.emplace_back("start");
        return run_background(settings.command_directory, args) ? 0 : 1;
    }
    case Mode::newalias: {
        if (*rest) util::msg_fatal("alias initialization mode requires no recipient");
        if (alias_map == nullptr && settings.alias_database.empty()) return 0;
        std::vector<std::string> args{"postalias"};
        add_verbose(args);
        args.emplace_back("--");
        if (alias_map) args.emplace_back(alias_map);
        else
            for (auto word : util::split_tokens(settings.alias_database, ", \t\r\n")) args.emplace_back(word);
        run_replace(settings.command_directory, args);
    }
    case Mode::user: {
        if (*rest) util::msg_fatal("stand-alone mode requires no recipient");
        uid_t uid = ::getuid();
        if (auto denied = mail::check_user_acl(settings.submit_acl, uid))
            util::msg_fatal("User {}({}) is not allowed to submit mail", *denied, static_cast<long>(uid));
        std::vector<std::string> args{"smtpd", "-S"};
        add_verbose(args);
        run_replace(settings.daemon_directory, args);
    }
    case Mode::ignore: return 0;
    }
    return 0;
}

}  // namespace
}  // namespace pf::sendmail

int main(int argc, char** argv) {
    try {
        return pf::sendmail::run(argc, argv);
    } catch (const std::exception& e) {
        pf::util::msg_fatal("{}", e.what());
    }
}
