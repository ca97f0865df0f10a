// qshape(1): the queue's shape by domain and age, as the reference's
// qshape (a Perl script shipped with Postfix 3.7.11) prints it. Options
// -s -p -m -b -t -l -w -N -n -c and queue names (incoming and active by
// default; names not starting with "/" are taken inside queue_directory,
// which is asked of "postconf -h queue_directory" as the reference does);
// the same report (qshape_tally.h), the same reading of queue files
// (qshape_envelope.h), the same diagnostics and exit codes (the usage
// text and 255 for a bad option, "postconf failed" with postconf's exit
// status, chdir's errno), and Perl's option parsing (Getopt::Std: bundled
// flags, "--", a value in the same or the next argument).
//
// Trust: arguments are the invoking user's; queue files are untrusted
// (see qshape_envelope.h). postconf is run without a shell.
#include "cmd/qshape/qshape_envelope.h"
#include "cmd/qshape/qshape_perl.h"
#include "cmd/qshape/qshape_tally.h"
#include "cmd/qshape/qshape_walk.h"
#include "util/unique_fd.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <clocale>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <optional>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace pf::qshape {
namespace {

constexpr std::string_view kOptionLetters = "lhc:psw:b:t:m:n:N:";

constexpr std::string_view kUsageTail =
    " [ -s ] [ -p ] [ -m <min_subdomains> ] [ -l ]\n"
    "\t[ -b <bucket_count> ] [ -t <bucket_time> ] [ -w <terminal_width> ]\n"
    "\t[ -N <batch_msg_count> ] [ -n <batch_top_domains> ]\n"
    "\t[ -c <config_directory> ] [ <queue_name> ... ]\n"
    "The 's' option shows sender domain counts.\n"
    "The 'p' option shows address counts by for parent domains.\n"
    "Parent domains are shown with a leading '.' before the domain name.\n"
    "Parent domains are only shown if the domain is not a TLD, and at\n"
    "least <min_subdomains> (default 5) subdomains are shown in the output.\n\n"
    "The bucket age ranges in units of <bucket_time> minutes are\n"
    "[0,1), [1,2), [2,4), [4,8), [8, 16), ... i.e.:\n"
    "\tthe first bucket is [0, bucket_time) minutes\n"
    "\tthe second bucket is [bucket_time, 2*bucket_time) minutes\n"
    "\tthe third bucket is [2*bucket_time, 4*bucket_time) minutes...\n"
    "'-l' makes the ages linear, the number of buckets shown is <bucket_count>\n\n"
    "The default summary is for the incoming and active queues. An explicit\n"
    "list of queue names can be given on the command line. Non-absolute queue\n"
    "names are interpreted relative to the Postfix queue directory. Use\n"
    "<config_directory> to specify a non-default Postfix instance.  Values of\n"
    "the main.cf queue_directory parameter that use variable expansions are\n"
    "not supported. If necessary, use explicit absolute paths for all queues.\n";

void write_stderr(std::string_view text) {
    std::fflush(stdout);
    std::fwrite(text.data(), 1, text.size(), stderr);
}

// The reference's option-time warnings print "SCRIPT: TEXT" (not for -h)
// and then die with the usage text: exit 255.
[[noreturn]] void usage_exit(std::optional<std::string_view> warning) {
    if (warning) write_stderr(fmt::format("{}: {}", script_name(), *warning));
    write_stderr(fmt::format("Usage: {}{}", script_name(), kUsageTail));
    std::fflush(nullptr);
    std::_Exit(255);
}

std::string base_name(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Getopt::Std's messages for --version and --help (printed on stderr,
// then option parsing carries on).
void version_message() {
    write_stderr(fmt::format(
        "{} version [unknown] calling Getopt::Std::getopts (version 1.13 [paranoid]),\n"
        "running under Perl version 5.36.0.\n",
        script_name()));
}
void help_message() {
    write_stderr(fmt::format(
        "\nUsage: {} [-OPTIONS [-MORE_OPTIONS]] [--] [PROGRAM_ARG1 ...]\n\n"
        "The following single-character options are accepted:\n"
        "\tWith arguments: -c -w -b -t -m -n -N\n"
        "\tBoolean (without arguments): -l -h -p -s\n\n"
        "Options may be merged together.  -- stops processing of options.\n"
        "Space is not required between options and their arguments.\n",
        base_name(script_name())));
}
void carry_on_message() {
    write_stderr(
        "  [Now continuing due to backward compatibility and excessive paranoia.\n"
        "   See 'perldoc Getopt::Std' about $Getopt::Std::STANDARD_HELP_VERSION.]\n");
}

// Option letter -> value (nullopt: the option was last and wanted a value).
using OptionMap = std::map<char, std::optional<std::string>>;

// Getopt::Std::getopts with the reference's option string.
std::vector<std::string> parse_options(std::vector<std::string> args, OptionMap& opts) {
    std::size_t at = 0;
    while (at < args.size() && args[at].size() >= 2 && args[at][0] == '-') {
        const char first = args[at][1];
        std::string rest = args[at].substr(2);
        if (args[at] == "--") {
            ++at;
            break;
        }
        const std::size_t pos = kOptionLetters.find(first);
        if (pos != std::string_view::npos) {
            if (pos + 1 < kOptionLetters.size() && kOptionLetters[pos + 1] == ':') {
                ++at;
                std::optional<std::string> value = rest;
                if (rest.empty()) value = at < args.size() ? std::optional<std::string>(args[at++]) : std::nullopt;
                opts[first] = value;
            } else {
                opts.insert_or_assign(first, std::optional<std::string>(std::in_place, 1, '1'));
                if (rest.empty()) ++at;
                else args[at].erase(1, 1);  // "-xyz" goes on as "-yz"
            }
        } else if (first == '-' && rest == "help") {
            version_message();
            help_message();
            carry_on_message();
            ++at;
        } else if (first == '-' && rest == "version") {
            version_message();
            carry_on_message();
            ++at;
        } else {
            usage_exit(fmt::format("Unknown option: {}\n", first));
        }
    }
    return {args.begin() + static_cast<std::ptrdiff_t>(at), args.end()};
}

struct Captured {
    bool started = false;
    int status = 0;
    std::string output;
};

// Runs argv (searched in PATH, no shell) with stdout captured, as Perl's
// backticks.
Captured capture(const std::vector<std::string>& argv) {
    Captured result;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return result;
    util::UniqueFd read_end(fds[0]);
    util::UniqueFd write_end(fds[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::fflush(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    write_end.reset();
    if (rc != 0) {
        errno = rc;
        return result;
    }
    result.started = true;
    char buf[4096];
    for (;;) {
        const ssize_t got = ::read(read_end.get(), buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        result.output.append(buf, static_cast<std::size_t>(got));
    }
    while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
    }
    return result;
}

// The reference's die: its exit status is errno when set, else the last
// child's exit status, else 255.
[[noreturn]] void die(std::string_view text, int status) {
    write_stderr(text);
    std::fflush(nullptr);
    std::_Exit(status != 0 ? status : 255);
}

// Goes to queue_directory (as "postconf -h queue_directory" prints it)
// when some queue name is relative.
void enter_queue_directory(const OptionMap& opts) {
    if (auto c = opts.find('c'); c != opts.end()) ::setenv("MAIL_CONFIG", c->second.value_or("").c_str(), 1);
    Captured postconf = capture({"postconf", "-h", "queue_directory"});
    if (!postconf.started) {
        const int error = errno;
        write_stderr(fmt::format("{}: Can't exec \"postconf\": {} at {} line {}.\n", script_name(),
                                 std::strerror(error), script_name(), line::kPostconf));
        write_stderr(fmt::format("Usage: {}{}", script_name(), kUsageTail));
        die(fmt::format("{}: postconf failed\n", script_name()), error);
    }
    if (postconf.status != 0) {
        const int code = WIFEXITED(postconf.status) ? WEXITSTATUS(postconf.status) : 0;
        die(fmt::format("{}: postconf failed\n", script_name()), code);
    }
    std::string qdir = postconf.output;
    if (!qdir.empty() && qdir.back() == '\n') qdir.pop_back();
    if (qdir.find('$') != std::string::npos)
        usage_exit(fmt::format("'queue_directory' variable expansion not supported: {}\n", qdir));
    if (::chdir(qdir.c_str()) != 0) {
        const int error = errno;
        die(fmt::format("{}: chdir({}): {}\n", script_name(), qdir, std::strerror(error)), error);
    }
}

// "$opts{X} > limit" as the reference tests each numeric option.
std::optional<double> numeric_option(const OptionMap& opts, char letter, double limit, int line) {
    auto it = opts.find(letter);
    if (it == opts.end()) return std::nullopt;
    if (!it->second) {
        perl_warn(fmt::format("Use of uninitialized value $opts{{\"{}\"}} in numeric gt (>)", letter), line);
        return std::nullopt;
    }
    const PerlNumber n = perl_numify(*it->second);
    if (!n.numeric) perl_warn_numeric(*it->second, "numeric gt (>)", line);
    if (n.value > limit) return n.value;
    return std::nullopt;
}

int run(int argc, char** argv) {
    set_script_name(argc > 0 && argv[0] != nullptr ? argv[0] : "qshape");
    std::setlocale(LC_CTYPE, "");  // perl does the same: see perl_argument_display()
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    OptionMap opts;
    std::vector<std::string> queues = parse_options(std::move(args), opts);
    if (opts.contains('h')) usage_exit(std::nullopt);
    if (queues.empty()) queues = {"incoming", "active"};
    for (const std::string& q : queues) {
        if (!q.empty() && q[0] == '/') continue;
        enter_queue_directory(opts);
        break;
    }

    TallyOptions options;
    options.sender = opts.contains('s');
    options.parents = opts.contains('p');
    options.linear = opts.contains('l');
    if (auto w = numeric_option(opts, 'w', 80, line::kWidth)) options.width = *w;
    if (auto b = numeric_option(opts, 'b', 0, line::kBuckets)) options.bucket_count = *b;
    if (auto t = numeric_option(opts, 't', 0, line::kTick)) options.tick = *t;
    if (auto m = numeric_option(opts, 'm', 0, line::kMinSub)) options.min_subdomains = *m;

    long batch_msg_count = 0;
    std::string clear;
    if (::isatty(1)) {
        auto number = [&](char letter, double fallback) {
            auto it = opts.find(letter);
            if (it == opts.end() || !it->second) return fallback;
            return perl_numify(*it->second).value;
        };
        // "% N" works on integers: a count below 1 would divide by zero in
        // the reference (it dies); here it turns the batches off.
        const double batch = number('N', 1000);
        batch_msg_count = batch >= 1 && batch < 1e18 ? static_cast<long>(batch) : 0;
        options.top_domains = number('n', 20);
        Captured c = capture({"clear"});
        clear = c.output;
    }

    const double now = static_cast<double>(std::time(nullptr));
    Tally tally(options);
    long messages = 0;
    for (const std::string& queue : queues) {
        walk_queue(queue, [&](const std::string& path, const std::string& name) {
            if (!looks_like_queue_file(name)) return;
            Envelope env = read_envelope(path);
            if (env.kind == Envelope::Kind::none) return;
            double queued = 0;
            if (env.kind == Envelope::Kind::undefined) {
                perl_warn("Use of uninitialized value $qt in subtraction (-)", line::kAge);
            } else {
                const PerlNumber t = perl_numify(*env.time);
                if (!t.numeric) perl_warn_numeric(*env.time, "subtraction (-)", line::kAge);
                queued = t.value;
            }
            const std::size_t bucket = bucket_of(queued, now, options);
            std::vector<std::optional<std::string>> addresses;
            if (options.sender) {
                if (env.kind == Envelope::Kind::undefined) {
                    perl_warn("Use of uninitialized value $_ in lc", line::kLowerCase);
                    addresses.emplace_back(std::nullopt);
                } else {
                    addresses.emplace_back(env.sender);
                }
            } else {
                for (std::string& r : env.recipients) addresses.emplace_back(std::move(r));
            }
            tally.add(bucket, addresses);
            if (batch_msg_count > 0 && ++messages % batch_msg_count == 0) {
                const std::string report = tally.render(clear);
                std::fwrite(report.data(), 1, report.size(), stdout);
                std::fflush(stdout);
            }
        });
    }
    const std::string report = tally.render(batch_msg_count > 0 ? clear : std::string());
    std::fwrite(report.data(), 1, report.size(), stdout);
    if (std::fflush(stdout) != 0) return 1;
    return 0;
}

}  // namespace
}  // namespace pf::qshape

int main(int argc, char** argv) { return pf::qshape::run(argc, argv); }
