// postmap(1) and postalias(1): naming and opening tables, start-up steps
// (see postmap.h).
#include "cmd/postmap/postmap.h"

#include "config/command_start.h"
#include "config/config.h"
#include "config/mail_params.h"
#include "dict/dict_indexed.h"
#include "dict/dict_utf8.h"
#include "dict/dict_registry.h"
#include "ipc/maillog_client.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pf::postmap {

MapSpec split_map(std::string_view arg, const std::string& default_type) {
    auto colon = arg.find(':');
    if (colon == std::string_view::npos) return {default_type, std::string(arg)};
    return {std::string(arg.substr(0, colon)), std::string(arg.substr(colon + 1))};
}

dict::DictPtr open_or_die(const MapSpec& map, int open_flags, dict::Flags flags) {
    auto d = dict::open(map.full(), open_flags, flags);
    if (!d) util::msg_fatal("{}", d.error().text);
    return std::move(*d);
}

void start_program(int argc, char** argv, const char* name) {
    ::umask(022);
    config::open_standard_descriptors();
    if (std::getenv("MAIL_VERBOSE")) util::msg_verbose = 1;
    if (argc > 0 && argv[0]) {
        if (const char* slash = std::strrchr(argv[0], '/'); slash && slash[1]) argv[0] = const_cast<char*>(slash + 1);
    }
    util::msg_set_program(argc > 0 && argv[0] ? argv[0] : name);
}

bool common_option(int c, Options& opts) {
    switch (c) {
    case 'c':
        if (::setenv("MAIL_CONFIG", optarg, 1) < 0) util::msg_fatal("out of memory");
        return true;
    case 'd':
        if (opts.sequence || opts.query || opts.delete_key) util::msg_fatal("specify only one of -s -q or -d");
        opts.delete_key = optarg;
        return true;
    case 'f': opts.dict_flags &= ~dict::kFoldFixed; return true;
    case 'i': opts.open_flags &= ~O_TRUNC; return true;
    case 'n': opts.dict_flags = (opts.dict_flags & ~dict::kTryNul) | dict::kTryNoNul; return true;
    case 'N': opts.dict_flags = (opts.dict_flags & ~dict::kTryNoNul) | dict::kTryNul; return true;
    case 'o': opts.as_owner = false; return true;
    case 'p': opts.save_perm = false; return true;
    case 'q':
        if (opts.sequence || opts.query || opts.delete_key) util::msg_fatal("specify only one of -s -q or -d");
        opts.query = optarg;
        return true;
    case 'r': opts.dict_flags = (opts.dict_flags & ~(dict::kDupWarn | dict::kDupIgnore)) | dict::kDupReplace; return true;
    case 's':
        if (opts.query || opts.delete_key) util::msg_fatal("specify only one of -s or -q or -d");
        opts.sequence = true;
        return true;
    case 'u': opts.dict_flags &= ~dict::kUtf8Request; return true;
    case 'v': ++util::msg_verbose; return true;
    case 'w': opts.dict_flags = (opts.dict_flags & ~(dict::kDupWarn | dict::kDupReplace)) | dict::kDupIgnore; return true;
    default: return false;
    }
}

void load_configuration(Options& opts) {
    const char* env_dir = std::getenv("MAIL_CONFIG");
    config::Config cfg(config::resolve_config_directory(nullptr));
    cfg.load_main_cf(env_dir && *env_dir);
    config::check_mail_params(cfg);
    dict::load_indexed_table_params(cfg);  // berkeley_db_*_buffer_size, lmdb_map_size
    // From here on, diagnostics also go to syslog or, with maillog_file,
    // to postlogd (no direct writes: postmap is not a logging authority),
    // besides stderr, as the reference's postmap and postalias do.
    ipc::maillog_client_init(cfg, ipc::mail_task(cfg, util::msg_program()), ipc::kMaillogNone);
    if (util::msg_verbose) (void)cfg.get("mynetworks");
    bool utf8 = util::iequals(cfg.get("smtputf8_enable"), "yes");
    dict::set_utf8_support(utf8);
    util::msg_set_utf8(utf8);
    config::import_environment(cfg);
    opts.default_type = cfg.get("default_database_type");
    opts.meta_directory = cfg.get("meta_directory");
    opts.header_size_limit = static_cast<size_t>(std::stoll(cfg.get("header_size_limit")));
    opts.myhostname = cfg.get("myhostname");
    dict::register_builtin_types();
}

std::optional<int> table_operation(char** maps, int count, const Options& opts, void (*usage)()) {
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
    return std::nullopt;
}

}  // namespace pf::postmap
