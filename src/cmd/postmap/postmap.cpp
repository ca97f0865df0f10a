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

    ::umask(022);
    open_standard_descriptors();
    if (std::getenv("MAIL_VERBOSE")) util::msg_verbose = 1;
    if (argc > 0 && argv[0]) {
        if (const char* slash = std::strrchr(argv[0], '/'); slash && slash[1]) argv[0] = const_cast<char*>(slash + 1);
    }
    util::msg_set_program(argc > 0 && argv[0] ? argv[0] : "postmap");

    Options opts;
    opts.open_flags = O_RDWR | O_CREAT | O_TRUNC;
    int c;
    while ((c = ::getopt(argc, argv, "+bc:d:fFhimnNopq:rsuUvw")) > 0) {
        switch (c) {
        case 'b': opts.body_mode = true; break;
        case 'c':
            if (::setenv("MAIL_CONFIG", optarg, 1) < 0) util::msg_fatal("out of memory");
            break;
        case 'd':
            if (opts.sequence || opts.query || opts.delete_key) util::msg_fatal("specify only one of -s -q or -d");
            opts.delete_key = optarg;
            break;
        case 'f': opts.dict_flags &= ~dict::kFoldFixed; break;
        case 'F': opts.dict_flags |= dict::kSrcRhsIsFile; break;
        case 'h': opts.header_mode = true; break;
        case 'i': opts.open_flags &= ~O_TRUNC; break;
        case 'm': opts.mime_mode = true; break;
        case 'n': opts.dict_flags = (opts.dict_flags & ~dict::kTryNul) | dict::kTryNoNul; break;
        case 'N': opts.dict_flags = (opts.dict_flags & ~dict::kTryNoNul) | dict::kTryNul; break;
        case 'o': opts.as_owner = false; break;
        case 'p': opts.save_perm = false; break;
        case 'q':
            if (opts.sequence || opts.query || opts.delete_key) util::msg_fatal("specify only one of -s -q or -d");
            opts.query = optarg;
            break;
        case 'r': opts.dict_flags = (opts.dict_flags & ~(dict::kDupWarn | dict::kDupIgnore)) | dict::kDupReplace; break;
        case 's':
            if (opts.query || opts.delete_key) util::msg_fatal("specify only one of -s or -q or -d");
            opts.sequence = true;
            break;
        case 'u': opts.dict_flags &= ~dict::kUtf8Request; break;
        case 'U': opts.utf8_in_message = true; break;
        case 'v': ++util::msg_verbose; break;
        case 'w': opts.dict_flags = (opts.dict_flags & ~(dict::kDupWarn | dict::kDupReplace)) | dict::kDupIgnore; break;
        default: usage();
        }
    }

    const char* env_dir = std::getenv("MAIL_CONFIG");
    config::Config cfg(config::resolve_config_directory(nullptr));
    cfg.load_main_cf(env_dir && *env_dir);
    config::check_mail_params(cfg);
    if (util::msg_verbose) (void)cfg.get("mynetworks");
    bool utf8 = util::iequals(cfg.get("smtputf8_enable"), "yes");
    dict::set_utf8_support(utf8);
    util::msg_set_utf8(utf8);
    import_environment(cfg);
    opts.default_type = cfg.get("default_database_type");
    opts.meta_directory = cfg.get("meta_directory");
    opts.header_size_limit = static_cast<size_t>(std::stoll(cfg.get("header_size_limit")));
    dict::register_builtin_types();

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
    if (opts.delete_key) {
        if (count <= 0) usage();
        if (std::strcmp(opts.delete_key, "-") == 0) return delete_stdin(maps, count, opts);
        return delete_key(maps, count, opts);
    }
    if (opts.query) {
        if (count <= 0) usage();
        if (std::strcmp(opts.query, "-") == 0) {
            if (opts.header_mode || opts.body_mode) return query_message(maps, count, opts);
            return query_stdin(maps, count, opts);
        }
        return query_key(maps, count, opts);
    }
    if (opts.sequence) {
        // As the reference: -s without a table lists nothing and fails.
        if (count <= 0) return 1;
        show_table(split_map(maps[0], opts.default_type), opts);
        return 0;
    }
    if (count <= 0) usage();
    for (int i = 0; i < count; ++i) build_table(split_map(maps[i], opts.default_type), opts);
    return 0;
}
