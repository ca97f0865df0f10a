// postfix(1): the administrative front end. "postfix [-Dv] [-c dir]
// command": checks that root runs it, reads main.cf, checks the program
// and queue directories exist, then runs the command (postfix_script.h).
// Its own usage errors go to stderr as "postfix: ..."; the commands' messages
// are logged as "<syslog_name>/postfix-script", as the reference's
// postfix-script logs them. In a multi-instance set (multi_instance_directories
// not empty), without -c or MAIL_CONFIG, the command goes to
// multi_instance_wrapper (postmulti -p) instead, as the reference's does.
//
// Trust: root runs it; the configuration is admin-written.
#include "cmd/postfix/postfix_script.h"

#include "config/command_start.h"
#include "config/config.h"
#include "config/host_defaults.h"
#include "config/mail_params.h"
#include "ipc/maillog_client.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

[[noreturn]] void usage() { pf::util::msg_fatal("usage: postfix [-c config_dir] [-Dv] command"); }

void require_dir(const std::string& dir, std::string_view what) {
    if (::access(dir.c_str(), X_OK) < 0) pf::util::msg_fatal("no Postfix {} {}!", what, dir);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace pf;
    // Messages name the program without its directory, as the reference's.
    config::command_start(argv, "postfix");
    const char* config_dir_opt = nullptr;
    int verbose = 0;
    bool debug = false;
    int c;
    while ((c = ::getopt(argc, argv, "+c:Dv")) > 0) {
        switch (c) {
        case 'c': config_dir_opt = optarg; break;
        case 'D': debug = true; break;
        case 'v': ++verbose; break;
        default: usage();
        }
    }
    if (::getuid() != 0) {
        util::msg_error("to submit mail, use the Postfix sendmail command");
        util::msg_fatal("the postfix command is reserved for the superuser");
    }
    util::msg_verbose = verbose;
    std::string config_directory = config::resolve_config_directory(config_dir_opt);
    // -c or MAIL_CONFIG names one instance: no hand-off to the wrapper.
    const bool force_single_instance = config_dir_opt != nullptr || std::getenv("MAIL_CONFIG") != nullptr;
    const char* env_config = std::getenv("MAIL_CONFIG");
    bool explicit_dir = config_dir_opt != nullptr || (env_config && *env_config);
    if (config_dir_opt) ::setenv("MAIL_CONFIG", config_directory.c_str(), 1);
    if (verbose) ::setenv("MAIL_VERBOSE", std::to_string(verbose).c_str(), 1);
    if (debug) ::setenv("MAIL_DEBUG", "", 1);

    config::Config cfg(config_directory);
    try {
        cfg.load_main_cf(explicit_dir);
        config::check_mail_params(cfg);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    ::umask(022);
    // The reference's postfix command changes to the queue directory before
    // anything else (its own message, not the script's).
    std::string queue_directory = cfg.get("queue_directory");
    // The reference's postfix command writes on stderr only when it is a
    // terminal: its fatal error about maillog_file_prefixes goes to the log
    // alone otherwise.
    util::msg_set_stderr(::isatty(2));
    ipc::maillog_client_init(cfg, ipc::mail_task(cfg, config::process_name()), ipc::kMaillogDirectFallback);
    util::msg_set_stderr(true);
    if (::chdir(queue_directory.c_str()) < 0)
        util::msg_fatal("chdir({}): {}", queue_directory, std::strerror(errno));

    // A multi-instance set without -c or MAIL_CONFIG: the wrapper
    // (postmulti -p) runs the command for each instance.
    if (!force_single_instance) {
        const std::string directories = cfg.get("multi_instance_directories");
        if (!util::split_tokens(directories, util::kListSeparators).empty()) {
            const std::string wrapper = cfg.get("multi_instance_wrapper");
            if (wrapper.empty())
                util::msg_fatal("multi-instance support is requested, but multi_instance_wrapper is empty");
            std::vector<std::string> words;
            for (auto w : util::split_tokens(wrapper, util::kWhitespace)) words.emplace_back(w);
            for (int i = optind; i < argc; ++i) words.emplace_back(argv[i]);
            std::vector<char*> wargv;
            for (auto& w : words) wargv.push_back(w.data());
            wargv.push_back(nullptr);
            ::setenv("PATH", "/bin:/usr/bin:/sbin:/usr/sbin", 1);
            ::setenv("MAIL_CONFIG", config_directory.c_str(), 1);
            ::execvp(wargv[0], wargv.data());
            util::msg_fatal("{}: {}", words[0], std::strerror(errno));
        }
    }

    // From here on, messages are the script's.
    // The tag is this instance's syslog_name; an inherited MAIL_LOGTAG (say,
    // from postmulti run for the primary instance) is replaced, as the
    // reference does.
    std::string tag = cfg.get("syslog_name");
    ::setenv("MAIL_LOGTAG", tag.c_str(), 1);
    std::string ident = tag + "/postfix-script";
    ipc::maillog_client_init(cfg, ident, ipc::kMaillogDirectFallback);
    util::msg_set_program(ident);
    util::msg_set_stderr(::isatty(2));

    postfix_cmd::Context ctx{.config = cfg, .config_directory = config_directory};
    ctx.command_directory = cfg.get("command_directory");
    ctx.daemon_directory = cfg.get("daemon_directory");
    ctx.queue_directory = cfg.get("queue_directory");
    ctx.data_directory = cfg.get("data_directory");
    ctx.meta_directory = cfg.get("meta_directory");
    ctx.shlib_directory = cfg.get("shlib_directory");
    ctx.mail_owner = cfg.get("mail_owner");
    ctx.setgid_group = cfg.get("setgid_group");
    ctx.verbose = verbose;

    require_dir(ctx.command_directory, "command directory");
    require_dir(ctx.daemon_directory, "daemon directory");
    if (::access((ctx.daemon_directory + "/master").c_str(), F_OK) < 0)
        util::msg_fatal("no Postfix master program {}/master!", ctx.daemon_directory);
    require_dir(config_directory, "configuration directory");
    if (ctx.shlib_directory != "no") require_dir(ctx.shlib_directory, "shared-library directory");
    require_dir(ctx.meta_directory, "meta directory");
    require_dir(ctx.queue_directory, "queue directory");
    if (::chdir(ctx.queue_directory.c_str()) < 0) util::msg_fatal("no Postfix queue directory {}!", ctx.queue_directory);

    // A secondary instance of a multi-instance set does not check the
    // shared program files.
    std::string default_dir(config::kDefaultConfigDirectory);
    if (config_directory != default_dir && ::access((default_dir + "/main.cf").c_str(), R_OK) == 0) {
        config::Config def(default_dir);
        try {
            def.load_main_cf(false);
            const std::string directories = def.get("multi_instance_directories");  // outlives the words
            for (auto word : util::split_tokens(directories, util::kListSeparators))
                if (word == config_directory) ctx.check_shared_files = false;
        } catch (const std::exception&) {
        }
    }

    std::string command = optind < argc ? argv[optind] : "";
    std::vector<std::string> args;
    for (int i = optind + 1; i < argc; ++i) args.emplace_back(argv[i]);
    return postfix_cmd::run_command(ctx, command, args);
}
