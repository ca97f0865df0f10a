// postconf(1) -b and -t: the bounce templates, expanded (-b) or as written
// (-t), of the built-in set or of a template file given as argument.
// Reproduces the reference: its option checks and their wording, the
// start-up checks of main.cf every mail program makes (mail_owner,
// setgid_group, default_privs, ...), then the bounce daemon from
// daemon_directory run in place of postconf:
//     bounce -SVnexpand_templates|-SVndump_templates [-o bounce_template_file=FILE] -o queue_directory=.
// with MAIL_CONFIG and MAIL_LOGTAG in its environment; the daemon prints.
//
// Trust: main.cf is admin-written; daemon_directory names the program run.
#include "postconf.h"

#include "config/mail_params.h"
#include "util/msg.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace pf::postconf {

int show_bounce_templates(State& st) {
    const Options& o = st.opts;
    const char* mode = o.has(kBounceTemplates) ? "-b" : "-t";

    struct Named {
        unsigned flag;  // 0: -o
        const char* name;
    };
    constexpr Named kForbidden[] = {{kDefaults, "-d"}, {kEdit, "-e"},   {kFold, "-f"},    {kNoNames, "-h"},
                                    {kNoValues, "-H"}, {kNonDefault, "-n"}, {0, "-o"},     {kExpand, "-x"},
                                    {kExclude, "-X"},  {kCommentOut, "-#"}};
    unsigned forbidden = 0;
    for (const auto& f : kForbidden) forbidden |= f.flag;
    if (o.flags & forbidden) {
        std::string names;
        for (const auto& f : kForbidden) {
            if (f.flag ? !o.has(f.flag) : o.overrides.empty()) continue;
            names += ' ';
            names += f.name;
        }
        util::msg_fatal("with option {}, do not specify{}", mode, names);
    }
    if (o.args.size() > 1) util::msg_fatal("options -b and -t require at most one template file");
    if (!o.overrides.empty()) util::msg_fatal("with option {}, do not specify -o", mode);

    const char* env_config = std::getenv("MAIL_CONFIG");
    st.config.load_main_cf(o.have_config_dir || (env_config && *env_config));
    config::check_mail_params(st.config);
    // The reference computes the local networks at start-up; with -v that
    // shows in its log.
    if (util::msg_verbose) (void)st.config.default_value("mynetworks");

    std::string path = st.config.get("daemon_directory") + "/bounce";
    std::vector<std::string> args = {"bounce", o.has(kBounceTemplates) ? "-SVnexpand_templates" : "-SVndump_templates"};
    if (!o.args.empty()) {
        args.emplace_back("-o");
        args.emplace_back("bounce_template_file=" + o.args.front());
    }
    args.emplace_back("-o");
    args.emplace_back("queue_directory=.");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    ::setenv("MAIL_CONFIG", st.config.config_directory().c_str(), 1);
    ::setenv("MAIL_LOGTAG", st.config.get("syslog_name").c_str(), 1);
    ::execv(path.c_str(), argv.data());
    util::msg_fatal("execv {}: {}", path, std::strerror(errno));
}

}  // namespace pf::postconf
