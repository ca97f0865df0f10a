// postmulti(1): runs commands over the instances of a multi-instance
// Postfix set, and manages that set. As the reference 3.7.11:
//   postmulti -l [-aRv] [-g group] [-i name]            list instances
//   postmulti -p [-av] [-g group] [-i name] command...  postfix(1) per instance
//   postmulti -x [-aRv] [-g group] [-i name] command... any command per instance
//   postmulti -e action [-av] [-i name] [-I name] [-G group] [param=value...]
// It refuses a non-default MAIL_CONFIG, loads the primary instance from the
// default main.cf and the others through "postconf -xc dir" on each
// multi_instance_directories entry, and checks that no two instances share
// a name or a private directory. With -p, start commands run "postfix check"
// for disabled instances, stop commands (in reverse order) and control
// commands skip them. -e actions are done in process (multi_edit.h), where
// the reference hands them to its postmulti-script. Diagnostics go to the
// log and, when stderr is a terminal, to stderr, as the reference's.
//
// Trust: run by root; the configuration files are admin-written; names and
// paths from the command line are checked (multi_instance.h) before use.
#include "cmd/postmulti/multi_edit.h"
#include "cmd/postmulti/multi_instance.h"

#include "config/command_start.h"
#include "config/config.h"
#include "config/mail_params.h"
#include "ipc/maillog_client.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fcntl.h>
#include <list>

extern char** environ;

namespace pf::postmulti {
namespace {

using util::msg_fatal;

enum class Mode { none, list, postfix, generic, edit };

struct Options {
    Mode mode = Mode::none;
    EditAction action = EditAction::init;
    Selection selection{};
    std::optional<std::string> assign_name{};
    std::optional<std::string> assign_group{};
    bool reverse = false;
};

[[noreturn]] void usage(const char* prog) {
    msg_fatal("Usage:{0} -l [-v] [-a] [-g group] [-i instance] | {0} -p [-v] [-a] [-g group] [-i instance] "
              "command... | {0} -x [-v] [-a] [-i name] [-g group] command... | {0} -e action [-v] [-a] [-i name] "
              "[-g group] [-I name] [-G group] [param=value ...]",
              prog);
}

void check_setenv(const char* name, const std::string& value) {
    if (::setenv(name, value.c_str(), 1) < 0) msg_fatal("setenv: {}", std::strerror(errno));
}

// The whole set: the primary first, then the secondaries in order.
struct InstanceSet {
    std::list<Instance> instances;
    ClaimTable claims;

    void claim(const std::string& path, std::string_view param, const std::string& value) {
        if (auto r = claims.claim(path, param, value); !r) msg_fatal("{}", r.error());
    }
    void claim_attributes(const Instance& ip) {
        if (ip.name) claim(ip.config_dir, "multi_instance_name", *ip.name);
        claim(ip.config_dir, "config_directory", ip.config_dir);
        claim(ip.config_dir, "queue_directory", ip.queue_dir);
        claim(ip.config_dir, "data_directory", ip.data_dir);
    }
};

std::optional<std::string> non_empty(std::string value) {
    if (value.empty()) return std::nullopt;
    return value;
}

// Reads an instance's private settings with "postconf -xc dir ...", as the
// reference does (so a broken main.cf gets postconf's own messages).
void load_instance(Instance& ip, const std::string& command_directory) {
    std::string postconf = command_directory + "/postconf";
    std::vector<std::string> args = {postconf, "-xc", ip.config_dir, "queue_directory", "data_directory",
                                     "multi_instance_name", "multi_instance_group", "multi_instance_enable"};
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) msg_fatal("Cannot parse {}/main.cf file: {}", ip.config_dir, std::strerror(errno));
    pid_t pid = ::fork();
    if (pid < 0) msg_fatal("Cannot parse {}/main.cf file: {}", ip.config_dir, std::strerror(errno));
    if (pid == 0) {
        ::dup2(fds[1], 1);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execve(postconf.c_str(), argv.data(), environ);
        msg_fatal("exec {}: {}", postconf, std::strerror(errno));
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int count = 0;
    std::size_t pos = 0;
    while (pos < out.size()) {
        std::size_t nl = out.find('\n', pos);
        std::string line = out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? out.size() : nl + 1;
        auto eq = line.find('=');
        std::string_view name = eq == std::string::npos ? std::string_view{} : util::trim(std::string_view(line).substr(0, eq));
        if (eq == std::string::npos || name.empty())
            msg_fatal("Invalid {}/main.cf parameter: {}", ip.config_dir, line);
        std::string value(util::trim(std::string_view(line).substr(eq + 1)));
        if (name == "queue_directory") {
            ++count;
            ip.queue_dir = value;
        } else if (name == "data_directory") {
            ++count;
            ip.data_dir = value;
        } else if (name == "multi_instance_name") {
            ++count;
            ip.name = non_empty(value);
        } else if (name == "multi_instance_group") {
            ++count;
            ip.group = non_empty(value);
        } else if (name == "multi_instance_enable") {
            ++count;
            if (util::iequals(value, "yes"))
                ip.enabled = true;
            else if (util::iequals(value, "no"))
                ip.enabled = false;
            else
                msg_fatal("Unexpected {}/main.cf entry: multi_instance_enable = {}", ip.config_dir, value);
        }
    }
    if (count != 5) msg_fatal("Failed to obtain all required {}/main.cf parameters", ip.config_dir);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) msg_fatal("Cannot parse {}/main.cf file", ip.config_dir);
}

Instance primary_instance(const config::Config& cfg) {
    Instance ip;
    ip.config_dir = cfg.config_directory();
    ip.name = non_empty(cfg.get("multi_instance_name"));
    ip.group = non_empty(cfg.get("multi_instance_group"));
    ip.enabled = util::iequals(cfg.get("multi_instance_enable"), "yes");
    ip.queue_dir = cfg.get("queue_directory");
    ip.data_dir = cfg.get("data_directory");
    ip.primary = true;
    return ip;
}

void load_all(InstanceSet& set, const config::Config& cfg) {
    const std::string dirs = cfg.get("multi_instance_directories");
    auto secondaries = util::split_tokens(dirs, util::kListSeparators);
    Instance primary = primary_instance(cfg);
    if (secondaries.empty()) primary.enabled = true;  // a single instance is always on
    set.claim_attributes(primary);
    set.instances.push_back(std::move(primary));
    const std::string command_directory = cfg.get("command_directory");
    for (auto dir : secondaries) {
        Instance ip;
        ip.config_dir = std::string(dir);
        load_instance(ip, command_directory);
        set.claim_attributes(ip);
        set.instances.push_back(std::move(ip));
    }
}

// Runs one command for one instance; its exit status, or 1.
int run_for_instance(const Instance& ip, Mode mode, bool check_disabled, std::vector<std::string> args,
                     const config::Config& cfg) {
    pid_t pid = ::fork();
    if (pid < 0) {
        util::msg_warn("fork {}: {}", args[0], std::strerror(errno));
        return -1;
    }
    if (pid == 0) {
        check_setenv("MAIL_CONFIG", ip.config_dir);
        if (mode != Mode::postfix) {
            check_setenv("daemon_directory", cfg.get("daemon_directory"));
            check_setenv("command_directory", cfg.get("command_directory"));
            check_setenv("config_directory", ip.config_dir);
            check_setenv("queue_directory", ip.queue_dir);
            check_setenv("data_directory", ip.data_dir);
            check_setenv("multi_instance_name", ip.name.value_or(""));
            check_setenv("multi_instance_group", ip.group.value_or(""));
            check_setenv("multi_instance_enable", ip.enabled ? "yes" : "no");
            prepend_command_path(cfg.get("command_directory"));
        }
        // A start request for a disabled instance only checks it.
        if (mode == Mode::postfix && check_disabled && !ip.enabled) args[2] = "check";
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        msg_fatal("execvp {}: {}", args[0], std::strerror(errno));
    }
    int status = 0;
    pid_t w;
    while ((w = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (w < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

[[noreturn]] void iterate(InstanceSet& set, Options& opt, const std::vector<std::string>& words,
                          const config::Config& cfg) {
    if (opt.selection.type == SelectType::none) opt.selection.type = SelectType::all;
    load_all(set, cfg);
    bool reverse = opt.reverse;
    bool skip_disabled = false;
    bool check_disabled = false;
    std::vector<std::string> args = words;
    if (opt.mode == Mode::postfix) {
        if (word_in_list(cfg.get("postmulti_start_commands"), words[0])) {
            check_disabled = true;
        } else if (word_in_list(cfg.get("postmulti_stop_commands"), words[0])) {
            skip_disabled = true;
            reverse = true;
        } else if (word_in_list(cfg.get("postmulti_control_commands"), words[0])) {
            skip_disabled = true;
        }
        args.insert(args.begin(), {cfg.get("command_directory") + "/postfix", "--"});
    }
    std::vector<const Instance*> order;
    for (const auto& ip : set.instances) order.push_back(&ip);
    if (reverse) std::reverse(order.begin(), order.end());
    if (opt.mode == Mode::list) {
        std::string out;
        for (const Instance* ip : order)
            if (matches(*ip, opt.selection)) out += list_line(*ip);
        if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0)
            msg_fatal("error writing output: {}", std::strerror(errno));
        std::exit(0);
    }
    int exit_status = 0;
    bool matched = false;
    for (const Instance* ip : order) {
        if (skip_disabled && !ip->enabled) continue;
        if (!matches(*ip, opt.selection)) continue;
        matched = true;
        if (run_for_instance(*ip, opt.mode, check_disabled, args, cfg) != 0) exit_status = 1;
    }
    if (!matched) msg_fatal("No matching instances");
    std::exit(exit_status);
}

// The instance an edit action works on, chosen with -i.
std::list<Instance>::iterator select_existing(InstanceSet& set, const Selection& selection) {
    if (selection.type != SelectType::name) msg_fatal("Select an instance via '-i name'");
    for (auto it = set.instances.begin(); it != set.instances.end(); ++it)
        if (matches(*it, selection)) return it;
    msg_fatal("No instance named {}", selection.name);
}

[[noreturn]] void manage(InstanceSet& set, Options& opt, const std::vector<std::string>& words,
                         const config::Config& cfg) {
    EditRequest req{.action = opt.action, .primary = cfg};
    auto assign = [&](Instance& target) {
        if (auto r = check_assignment(opt.assign_name, opt.assign_group); !r) msg_fatal("{}", r.error());
        bool changed = false;
        if (opt.assign_name && *opt.assign_name != target.name.value_or("")) {
            if (auto r = set.claims.claim(target.config_dir, "multi_instance_name", *opt.assign_name); !r)
                msg_fatal("{}", r.error());
            target.name = non_empty(*opt.assign_name);
            req.new_name = target.name.value_or("-");
            changed = true;
        }
        if (opt.assign_group && *opt.assign_group != target.group.value_or("")) {
            target.group = non_empty(*opt.assign_group);
            req.new_group = target.group.value_or("-");
            changed = true;
        }
        return changed;
    };
    auto secondaries = [&] {
        std::string dirs;
        for (auto it = std::next(set.instances.begin()); it != set.instances.end(); ++it) {
            if (!dirs.empty()) dirs += ' ';
            dirs += it->config_dir;
        }
        return dirs;
    };
    switch (opt.action) {
    case EditAction::init: req.target = primary_instance(cfg); break;
    case EditAction::create:
    case EditAction::import: {
        load_all(set, cfg);
        bool importing = opt.action == EditAction::import;
        Instance fresh;
        if (auto r = check_assignment(opt.assign_name, opt.assign_group); !r) msg_fatal("{}", r.error());
        for (const auto& word : words) {
            auto setting = parse_path_setting(word, importing, edit_action_name(opt.action));
            if (!setting) msg_fatal("{}", setting.error());
            if (setting->name == "config_directory") fresh.config_dir = setting->value;
            else if (setting->name == "queue_directory") fresh.queue_dir = setting->value;
            else fresh.data_dir = setting->value;
        }
        auto fill = [&](std::string& field, const char* param) {
            if (!field.empty()) return;
            auto path = private_path(param, cfg.get(param), opt.assign_name);
            if (!path) msg_fatal("{}", path.error());
            field = *path;
        };
        fill(fresh.config_dir, "config_directory");
        if (const std::string* owner = set.claims.owner(fresh.config_dir))
            msg_fatal("new config_directory={} is already in use by instance {}={}", fresh.config_dir, *owner,
                      fresh.config_dir);
        if (!importing) {
            fill(fresh.queue_dir, "queue_directory");
            fill(fresh.data_dir, "data_directory");
        } else {
            load_instance(fresh, cfg.get("command_directory"));
        }
        assign(fresh);
        set.claim_attributes(fresh);
        // With -i, the new instance goes before the selected secondary.
        auto where = set.instances.end();
        if (opt.selection.type != SelectType::none) {
            for (auto it = std::next(set.instances.begin()); it != set.instances.end(); ++it)
                if (matches(*it, opt.selection)) {
                    where = it;
                    break;
                }
            if (where == set.instances.end() && opt.selection.type != SelectType::all)
                msg_fatal("No matching secondary instances");
        }
        req.target = *set.instances.insert(where, fresh);
        req.multi_dirs = secondaries();
        break;
    }
    case EditAction::assign: {
        load_all(set, cfg);
        auto it = select_existing(set, opt.selection);
        if (!assign(*it)) std::exit(0);
        req.target = *it;
        break;
    }
    case EditAction::destroy:
    case EditAction::deport: {
        load_all(set, cfg);
        auto it = select_existing(set, opt.selection);
        if (it == set.instances.begin()) msg_fatal("Cannot remove the primary instance");
        if (it->enabled) msg_fatal("Cannot remove enabled instances");
        req.target = *it;
        set.instances.erase(it);
        req.multi_dirs = secondaries();
        break;
    }
    default:
        load_all(set, cfg);
        req.target = *select_existing(set, opt.selection);
        break;
    }
    std::exit(run_edit(req));
}

}  // namespace
}  // namespace pf::postmulti

int main(int argc, char** argv) {
    using namespace pf;
    using namespace pf::postmulti;
    ::umask(022);
    const char* prog = config::command_start(argv, "postmulti");
    util::msg_set_stderr(::isatty(2));
    const char* env_dir = std::getenv("MAIL_CONFIG");
    config::Config cfg(config::resolve_config_directory(nullptr));
    try {
        cfg.load_main_cf(env_dir != nullptr && *env_dir);
        config::check_mail_params(cfg);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    ipc::maillog_client_init(cfg, ipc::mail_task(cfg, prog), ipc::kMaillogDirectFallback);
    check_setenv("MAIL_LOGTAG", cfg.get("syslog_name"));
    if (env_dir && config::kDefaultConfigDirectory != env_dir)
        util::msg_fatal("Non-default configuration directory: MAIL_CONFIG={}", env_dir);

    Options opt;
    int selections = 0;
    int modes = 0;
    auto set_mode = [&](Mode m) {
        if (opt.mode != m) ++modes;
        opt.mode = m;
    };
    int c;
    while ((c = ::getopt(argc, argv, "+ae:g:i:G:I:lpRvx")) > 0) {
        switch (c) {
        case 'a':
            if (opt.selection.type != SelectType::all) ++selections;
            opt.selection.type = SelectType::all;
            break;
        case 'e': {
            auto action = parse_edit_action(optarg);
            if (!action)
                util::msg_fatal("Invalid '-e' edit action '{}'. Specify 'create', 'destroy', 'import', 'deport', "
                                "'enable', 'disable', 'assign' or 'init'",
                                optarg);
            if (opt.mode != Mode::edit || opt.action != *action) ++modes;
            opt.mode = Mode::edit;
            opt.action = *action;
            break;
        }
        case 'g':
            ++selections;
            opt.selection = {SelectType::group, optarg};
            break;
        case 'i':
            ++selections;
            opt.selection = {SelectType::name, optarg};
            break;
        case 'G':
            if (opt.assign_group) util::msg_fatal("Specify at most one '-G' option");
            opt.assign_group = std::string_view(optarg) == "-" ? "" : optarg;
            break;
        case 'I':
            if (opt.assign_name) util::msg_fatal("Specify at most one '-I' option");
            opt.assign_name = std::string_view(optarg) == "-" ? "" : optarg;
            break;
        case 'l': set_mode(Mode::list); break;
        case 'p': set_mode(Mode::postfix); break;
        case 'R': opt.reverse = !opt.reverse; break;
        case 'v':
            ++util::msg_verbose;
            check_setenv("MAIL_VERBOSE", "");
            break;
        case 'x': set_mode(Mode::generic); break;
        default: usage(prog);
        }
    }
    std::vector<std::string> words(argv + optind, argv + argc);
    if (selections > 1) util::msg_fatal("Specity no more than one of '-a', '-g', '-i'");
    if (modes != 1) util::msg_fatal("Specify exactly one of '-e', '-l', '-p', '-x'");
    if (opt.mode == Mode::list && !words.empty()) util::msg_fatal("Command not allowed with '-l'");
    if ((opt.mode == Mode::postfix || opt.mode == Mode::generic) && words.empty())
        util::msg_fatal("Command required with '-p' or '-x' option");
    if ((opt.mode == Mode::postfix || opt.mode == Mode::edit) && opt.reverse)
        util::msg_fatal("The '-p' and '-e' options preclude the use of '-R'");
    bool assigning = opt.mode == Mode::edit && (opt.action == EditAction::create || opt.action == EditAction::import ||
                                                opt.action == EditAction::assign);
    if (!assigning && (opt.assign_name || opt.assign_group)) {
        if (opt.mode != Mode::edit) util::msg_fatal("Cannot assign instance name or group without '-e assign'");
        util::msg_fatal("Cannot assign instance name or group with '-e {}'", edit_action_name(opt.action));
    }
    if (opt.mode == Mode::edit) {
        if (opt.action == EditAction::assign && !opt.assign_name && !opt.assign_group)
            util::msg_fatal("Specify new instance name or group with '-e assign'");
        if (opt.action != EditAction::create && opt.action != EditAction::import && !words.empty())
            util::msg_fatal("Parameter overrides not valid with '-e {}'", edit_action_name(opt.action));
    }

    // The shared directories must exist; the program directories are
    // claimed, so that no instance uses one as a private directory.
    InstanceSet set;
    for (const char* param : {"command_directory", "daemon_directory", "meta_directory", "shlib_directory"}) {
        std::string value = cfg.get(param);
        if (!value.starts_with('/')) continue;
        struct stat st{};
        if (::stat(value.c_str(), &st) < 0)
            util::msg_fatal("{} = '{}': directory not found: {}", param, value, std::strerror(errno));
        if (!S_ISDIR(st.st_mode)) util::msg_fatal("{} = '{}' is not a directory", param, value);
        // meta_directory often is the config or daemon directory: not claimed.
        if (std::string_view(param) != "meta_directory") set.claim(cfg.config_directory(), param, value);
    }
    if (opt.mode == Mode::edit) manage(set, opt, words, cfg);
    iterate(set, opt, words, cfg);
}
