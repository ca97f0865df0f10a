// postmap(1): builds, queries, changes and lists lookup tables, as the
// reference's postmap does. This file: start-up (umask 022, standard
// descriptors, program name), the options, main.cf and the start-up checks
// every mail program makes (config/mail_params.h), import_environment, and
// the choice of what to do.
//
// Options, as the reference reads them (getopt, stopping at the first
// non-option): -N/-n store and look up keys with / without a trailing NUL,
// -f keeps key case, -F values name files (base64), -r / -w make the last /
// first of duplicate keys win (the later option decides), -u drops the
// UTF-8 checks, -U keeps them in -h/-b modes, -i adds entries from standard
// input, -o / -p build without taking the source file's owner / rights,
// -b/-h/-m query a message from standard input, -c sets MAIL_CONFIG, -v is
// verbose; -q, -d and -s exclude each other.
//
// Trust: the command line and environment are the caller's (postmap runs
// with the caller's privileges, and as the source file's owner when root
// builds a table from a file that root does not own).
#include "cmd/postmap/postmap.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "dict/dict_registry.h"
#include "dict/dict_utf8.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace pf::postmap {

namespace {

constexpr const char* kUsage = "usage: {} [-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] [map_type:]file...";

[[noreturn]] void usage() { util::msg_fatal(kUsage, util::msg_program()); }

}  // namespace

}  // namespace pf::postmap

int main(int argc, char** argv) {
    using namespace pf;
    using namespace pf::postmap;

    start_program(argc, argv, "postmap");

    Options opts;
    opts.open_flags = O_RDWR | O_CREAT | O_TRUNC;
    int c;
    while ((c = ::getopt(argc, argv, "+bc:d:fFhimnNopq:rsuUvw")) > 0) {
        switch (c) {
        case 'b': opts.body_mode = true; break;
        case 'F': opts.dict_flags |= dict::kSrcRhsIsFile; break;
        case 'h': opts.header_mode = true; break;
        case 'm': opts.mime_mode = true; break;
        case 'U': opts.utf8_in_message = true; break;
        default:
            if (!common_option(c, opts)) usage();
        }
    }

    load_configuration(opts);

    const bool message_mode = opts.header_mode || opts.body_mode || opts.mime_mode;
    if (opts.query && std::strcmp(opts.query, "-") == 0) {
        if (opts.mime_mode && !opts.header_mode && !opts.body_mode) {
            util::msg_warn("ignoring -m option without -b or -h");
            opts.mime_mode = false;
        }
    } else if (message_mode) {
        util::msg_fatal("specify -b -h or -m only with \"-q -\"");
    }
    if ((opts.header_mode || opts.body_mode) && !opts.utf8_in_message) opts.dict_flags &= ~dict::kUtf8Request;

    char** maps = argv + optind;
    int count = argc - optind;
    if (auto status = table_operation(maps, count, opts, usage)) return *status;
    for (int i = 0; i < count; ++i) build_table(split_map(maps[i], opts.default_type), opts);
    return 0;
}
