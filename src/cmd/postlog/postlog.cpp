// postlog(1): log text from the command line, or each line of stdin, as
// the mail system logs (ipc/maillog_client.h): syslog, or through postlogd
// into maillog_file (written directly when postlogd is not running and we
// may). As the reference 3.7.11, observed:
//   postlog [-c config_dir] [-i] [-p priority] [-t tag] [-v] [text]
//   tag defaults to "<syslog_name>/postlog"; priorities info, warn(ing),
//   err(or), fatal, panic (any case) prefix "warning: ", "error: ",
//   "fatal: ", "panic: "; -p fatal/panic still exit 0; an unknown one is
//   fatal 'bad severity: "x"'; arguments are joined with single spaces;
//   stdin lines are logged one by one, empty ones too. Each line is copied
//   to stderr as "<tag>: text" when stderr is a terminal.
//
// Trust: runs set-gid setgid_group for any local user: the text is made
// printable, the tag is taken as given (as the reference).
#include "config/command_start.h"
#include "config/config.h"
#include "config/config_directory_check.h"
#include "config/host_defaults.h"
#include "config/mail_params.h"
#include "ipc/maillog_client.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <syslog.h>
#include <unistd.h>

namespace {

struct Severity {
    int priority;
    std::string_view prefix;
};

bool parse_severity(std::string_view name, Severity& out) {
    std::string n = pf::util::to_lower(name);
    if (n == "info") out = {LOG_INFO, ""};
    else if (n == "warn" || n == "warning") out = {LOG_WARNING, "warning: "};
    else if (n == "err" || n == "error") out = {LOG_ERR, "error: "};
    else if (n == "fatal" || n == "crit") out = {LOG_CRIT, "fatal: "};
    else if (n == "panic") out = {LOG_CRIT, "panic: "};
    else return false;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace pf;
    // Messages name the program without its directory, as the reference's.
    config::command_start(argv, "postlog");
    const char* config_dir_opt = nullptr;
    std::string tag;
    std::string severity_name = "info";
    int c;
    while ((c = ::getopt(argc, argv, "c:ip:t:v")) > 0) {
        switch (c) {
        case 'c': config_dir_opt = optarg; break;
        case 'i': break;  // the pid is always logged
        case 'p': severity_name = optarg; break;
        case 't': tag = optarg; break;
        case 'v': ++util::msg_verbose; break;
        default: util::msg_fatal("usage: {} [-c config_dir] [-i] [-p priority] [-t tag] [-v] [text]", argv[0]);
        }
    }
    std::string config_directory = config::resolve_config_directory(config_dir_opt);
    config::check_config_directory_allowed(config_directory);
    const char* env = std::getenv("MAIL_CONFIG");
    config::Config cfg(config_directory);
    try {
        cfg.load_main_cf(config_dir_opt != nullptr || (env && *env));
        config::check_mail_params(cfg);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    if (tag.empty()) tag = ipc::mail_task(cfg, config::process_name());
    // Only root may write maillog_file itself; others go through postlogd.
    // Whatever happens from here (a maillog_file outside
    // maillog_file_prefixes, too) is on stderr only when it is a terminal.
    bool to_stderr = ::isatty(2);
    util::msg_set_stderr(to_stderr);
    ipc::maillog_client_init(cfg, tag, ::geteuid() == 0 ? ipc::kMaillogDirectFallback : ipc::kMaillogNone);
    util::msg_set_program(tag);

    Severity severity{};
    if (!parse_severity(severity_name, severity)) {
        // stderr only, as the reference.
        util::msg_set_sink({});
        util::msg_set_stderr(true);
        util::msg_fatal("bad severity: \"{}\"", severity_name);
    }
    bool utf8 = cfg.get("smtputf8_enable") == "yes";
    auto log_line = [&](std::string_view text) {
        std::string message(severity.prefix);
        message += util::printable(text, utf8);
        ipc::maillog_client_send(severity.priority, tag, message);
        if (to_stderr) {
            std::string line = tag + ": " + message + "\n";
            (void)!::write(2, line.data(), line.size());
        }
    };
    if (optind < argc) {
        std::string text;
        for (int i = optind; i < argc; ++i) {
            if (i > optind) text += ' ';
            text += argv[i];
        }
        log_line(text);
    } else {
        std::string line;
        while (std::getline(std::cin, line)) log_line(line);
    }
    return 0;
}
