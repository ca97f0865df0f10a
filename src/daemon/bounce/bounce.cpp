// bounce(8): the delivery status notification daemon. It answers the
// invocation that postconf(1) -b / -t uses:
//     bounce -S -V -n dump_templates|expand_templates [-o name=value]...
// with MAIL_CONFIG naming the configuration directory; any other use runs
// the service under the daemon skeleton (bounce_server.h: the per-message
// bounce/defer/trace log appends and the notices made from them).
// Reproduces the reference's option letters
// (those of its daemon skeleton), its program name in diagnostics
// ($syslog_name/<argv[0] basename>, MAIL_LOGTAG before main.cf is read), its
// start-up checks and its chdir to queue_directory.
//
// Privileges: the listings need none and run as whoever starts them; the
// service drops to mail_owner through the daemon skeleton.
// Trust: main.cf and the template file are admin-written; the command line
// comes from master(8) or postconf(1).
#include "bounce_server.h"
#include "bounce_params.h"
#include "bounce_template_dump.h"

#include "config/config.h"
#include "config/host_defaults.h"
#include "config/mail_params.h"
#include "config/main_cf.h"
#include "util/msg.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Whether the command line asks for a template dump ("-n dump_templates"
// or "-n expand_templates", also as "-ndump_templates").
bool wants_template_dump(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg.size() < 2 || arg[0] != '-' || arg == "--") continue;
        // An option cluster such as "-SVndump_templates": the service name
        // follows 'n', in the same word or the next one.
        auto n = arg.find('n', 1);
        if (n == std::string_view::npos) continue;
        std::string_view name = arg.substr(n + 1);
        if (name.empty() && i + 1 < argc) name = argv[i + 1];
        if (name == "dump_templates" || name == "expand_templates") return true;
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace pf;
    if (!wants_template_dump(argc, argv)) return bounce::run_bounce_server(argc, argv);
    std::string argv0 = argc > 0 ? argv[0] : "bounce";
    if (auto slash = argv0.rfind('/'); slash != std::string::npos) argv0.erase(0, slash + 1);
    const char* tag = std::getenv("MAIL_LOGTAG");
    util::msg_set_program(fmt::format("{}/{}", tag && *tag ? tag : "postfix", argv0));
    config::set_process_name(argv0);

    // The reference's daemon skeleton options; those that only matter to a
    // service run by master(8) are accepted and ignored here.
    std::string service;
    bool stream = false;
    std::vector<std::pair<std::string, std::string>> overrides;
    int ch;
    opterr = 0;
    while ((ch = ::getopt(argc, argv, "cdDi:lm:n:o:s:St:uvVz")) != -1) {
        switch (ch) {
        case 'n': service = optarg; break;
        case 'o': {
            std::string error;
            auto nv = config::split_name_value(optarg, error);
            if (!nv) util::msg_fatal("invalid parameter override: {}: {}", optarg, error);
            overrides.emplace_back(std::move(nv->name), std::move(nv->value));
            break;
        }
        case 'S': stream = true; break;
        case 'v': util::msg_verbose++; break;
        case 'c': case 'd': case 'D': case 'i': case 'l': case 'm': case 's': case 't': case 'u': case 'V': case 'z':
            break;
        default: util::msg_fatal("invalid option: {}", static_cast<char>(optopt));
        }
    }

    const char* mail_config = std::getenv("MAIL_CONFIG");
    config::Config cfg(config::resolve_config_directory(nullptr));
    cfg.load_main_cf(mail_config && *mail_config);
    for (const auto& [name, value] : overrides) cfg.set_override(name, value);
    cfg.set_override("service_name", service);
    util::msg_set_program(fmt::format("{}/{}", cfg.get("syslog_name"), argv0));
    config::check_mail_params(cfg);
    bounce::check_bounce_params(cfg);

    std::string queue_directory = cfg.get("queue_directory");
    if (::chdir(queue_directory.c_str()) < 0)
        util::msg_fatal("chdir(\"{}\"): {}", queue_directory, std::strerror(errno));

    if (stream && service == "dump_templates") return bounce::dump_templates(cfg, bounce::DumpMode::raw);
    if (stream && service == "expand_templates") return bounce::dump_templates(cfg, bounce::DumpMode::expanded);
    util::msg_fatal("not implemented yet: only \"-S -n dump_templates\" and \"-S -n expand_templates\" are (service \"{}\")",
                    service);
}
