// postkick(1): send a request string to a service's socket or FIFO
// ("postkick public qmgr I"), for shell scripts. As the reference 3.7.11:
//   postkick [-c config_dir] [-v] class service request
//   diagnostics on stderr; "Cannot contact class <class> service <service>
//   - perhaps the mail system is down" (fatal) when nobody listens.
// The request goes out as written (the reference's triggers are single
// letters); the command then waits for the service to take it off the
// socket, at most application_event_drain_time.
//
// Trust: any local user may run it; class and service name a path below
// queue_directory and must not contain '/'.
#include "config/command_start.h"
#include "config/config.h"
#include "config/host_defaults.h"
#include "config/mail_params.h"
#include "ipc/service_client.h"
#include "util/msg.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <unistd.h>

int main(int argc, char** argv) {
    using namespace pf;
    // Messages name the program without its directory, as the reference's.
    config::command_start(argv, "postkick");
    const char* config_dir_opt = nullptr;
    int c;
    while ((c = ::getopt(argc, argv, "c:v")) > 0) {
        switch (c) {
        case 'c': config_dir_opt = optarg; break;
        case 'v': ++util::msg_verbose; break;
        default: util::msg_fatal("usage: {} [-c config_dir] [-v] class service request", argv[0]);
        }
    }
    if (argc - optind != 3) util::msg_fatal("usage: {} [-c config_dir] [-v] class service request", argv[0]);
    std::string class_dir = argv[optind];
    std::string service = argv[optind + 1];
    std::string request = argv[optind + 2];
    const char* env = std::getenv("MAIL_CONFIG");
    config::Config cfg(config::resolve_config_directory(config_dir_opt));
    try {
        cfg.load_main_cf(config_dir_opt != nullptr || (env && *env));
        config::check_mail_params(cfg);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    std::string queue_directory = cfg.get("queue_directory");
    if (::chdir(queue_directory.c_str()) < 0) util::msg_fatal("chdir {}: {}", queue_directory, std::strerror(errno));
    if (class_dir.find('/') != std::string::npos || service.find('/') != std::string::npos || class_dir.empty() ||
        service.empty())
        util::msg_fatal("Cannot contact class {} service {} - perhaps the mail system is down", class_dir, service);
    auto sent = ipc::send_trigger(queue_directory, class_dir, service, request, 10);
    if (!sent) {
        if (util::msg_verbose) util::msg_info("{}/{}: {}", class_dir, service, sent.error());
        util::msg_fatal("Cannot contact class {} service {} - perhaps the mail system is down", class_dir, service);
    }
    return 0;
}
