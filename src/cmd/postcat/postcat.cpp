// postcat(1): shows the contents of queue files. Options, exit codes and
// diagnostics are the reference 3.7.11's: -b -h -e select body, header and
// envelope (all three when none is given), -o record offsets, -d decimal
// record types, -r file order without following pointers, -s offset to
// start at, -v verbose, -c configuration directory, -q to take the
// arguments as queue IDs searched in maildrop, incoming, active, deferred,
// hold and saved (twice, as a file may move between queues meanwhile).
// Without arguments it reads standard input.
//
// Trust: queue IDs from the command line are checked before they become
// paths; file contents are handled by postcat_dump.cpp as untrusted.
#include "cmd/postcat/postcat.h"

#include "config/command_start.h"
#include "config/config.h"
#include "config/mail_params.h"
#include "queue/queue_file.h"
#include "util/msg.h"
#include "util/strings.h"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::postcat {
namespace {

[[noreturn]] void usage(const char* program) {
    util::msg_fatal(
        "usage: {} [-b (body text)] [-c config_dir] [-d (decimal record type)] [-e (envelope records)] "
        "[-h (header text)] [-q (access queue)] [-v] [file(s)...]",
        program);
}

bool all_digits(const char* text) {
    if (*text == 0) return false;
    for (; *text; ++text)
        if (*text < '0' || *text > '9') return false;
    return true;
}

// The reference's close reports a read error met earlier (e.g. reading a
// directory) with the errno of that error.
void close_file(std::FILE* fp, const char* name) {
    const bool failed = std::ferror(fp) != 0;
    const int error = errno;
    if (std::fclose(fp) != 0 || failed) util::msg_warn("close {}: {}", name, std::strerror(failed ? error : errno));
}

int run(int argc, char** argv) {
    config::open_standard_descriptors();
    util::msg_set_program(argv[0] != nullptr ? argv[0] : "postcat");
    int flags = 0;
    long start_offset = 0;
    int ch;
    while ((ch = ::getopt(argc, argv, "+bc:dehoqrs:v")) > 0) {
        switch (ch) {
        case 'b': flags |= kPrintBody; break;
        case 'c':
            if (::setenv("MAIL_CONFIG", optarg, 1) < 0) util::msg_fatal("out of memory");
            break;
        case 'd': flags |= kPrintTypeDecimal; break;
        case 'e': flags |= kPrintEnvelope; break;
        case 'h': flags |= kPrintHeader; break;
        case 'o': flags |= kPrintOffset; break;
        case 'q': flags |= kSearchQueue; break;
        case 'r': flags |= kRaw; break;
        case 's':
            if (!all_digits(optarg) || (start_offset = std::atol(optarg)) < 0)
                util::msg_fatal("bad offset: {}", optarg);
            break;
        case 'v': ++util::msg_verbose; break;
        default: usage(argv[0]);
        }
    }
    if ((flags & kPrintAll) == 0) flags |= kPrintAll;

    const char* env_dir = std::getenv("MAIL_CONFIG");
    config::Config cfg(config::resolve_config_directory(nullptr));
    cfg.load_main_cf(env_dir != nullptr && *env_dir != 0);
    config::check_mail_params(cfg);
    // The reference works out mynetworks while reading main.cf, which
    // shows in its verbose output.
    if (util::msg_verbose) (void)cfg.get("mynetworks");
    config::import_environment(cfg);

    if (optind == argc) {
        dump_queue_file(stdin, "stdin", flags, start_offset);
    } else if (flags & kSearchQueue) {
        queue::QueueLayout layout = queue::QueueLayout::from_config(cfg);
        if (::chdir(layout.queue_directory.c_str()) != 0)
            util::msg_fatal("chdir {}: {}", layout.queue_directory, std::strerror(errno));
        static constexpr std::array<std::string_view, 6> kQueues = {
            queue::kMaildrop, queue::kIncoming, queue::kActive, queue::kDeferred, queue::kHold, queue::kSaved};
        for (; optind < argc; ++optind) {
            const char* id = argv[optind];
            if (!queue::is_queue_id(id)) util::msg_fatal("bad mail queue ID: {}", id);
            std::FILE* fp = nullptr;
            std::string path;
            for (int tries = 0; fp == nullptr && tries < 2; ++tries)
                for (auto name : kQueues) {
                    path = layout.path(name, id, true);
                    if ((fp = std::fopen(path.c_str(), "r")) != nullptr) break;
                }
            if (fp == nullptr) util::msg_fatal("open queue file {}: {}", id, std::strerror(errno));
            dump_queue_file(fp, path, flags, start_offset);
            close_file(fp, id);
        }
    } else {
        for (; optind < argc; ++optind) {
            std::FILE* fp = std::fopen(argv[optind], "r");
            if (fp == nullptr) util::msg_fatal("open {}: {}", argv[optind], std::strerror(errno));
            dump_queue_file(fp, argv[optind], flags, start_offset);
            close_file(fp, argv[optind]);
        }
    }
    // Output not yet flushed by the printer stays unwritten (see
    // postcat_dump.cpp).
    return 0;
}

}  // namespace
}  // namespace pf::postcat

int main(int argc, char** argv) {
    try {
        return pf::postcat::run(argc, argv);
    } catch (const std::exception& e) {
        pf::util::msg_fatal("{}", e.what());
    }
}
