// postalias(1): builds, queries, changes and lists alias databases, as the
// reference's postalias does. The table work is postmap's (the query,
// delete and list code of src/cmd/postmap is compiled in, and builds go
// through postmap's build_table_with()); what is postalias's own:
//  - the source is in aliases(5) format (dict/alias_source.h);
//  - after the entries, every build stores the Sendmail "@" -> "@" entry
//    (with -i it replaces an earlier one), then, with keys and values
//    stored without a trailing NUL and not case-folded, the NIS entries
//    YP_LAST_MODIFIED (the time as ten digits) and YP_MASTER_NAME
//    ($myhostname);
//  - -q - and -s print "key:<TAB>value" lines.
//
// Options, as the reference reads them (getopt, stopping at the first
// non-option): -N/-n store and look up keys with / without a trailing NUL,
// -f keeps key case, -r / -w make the last / first of duplicate keys win,
// -u drops the UTF-8 checks, -i adds entries from standard input, -o / -p
// build without taking the source file's owner / rights, -c sets
// MAIL_CONFIG, -v is verbose; -q, -d and -s exclude each other.
//
// Trust: the command line and environment are the caller's (postalias runs
// with the caller's privileges, and as the source file's owner when root
// builds a database from a file that root does not own).
#include "cmd/postmap/postmap.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "dict/alias_source.h"
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
#include <ctime>

namespace {

using namespace pf;
using postmap::MapSpec;
using postmap::Options;

constexpr const char* kUsage = "usage: {} [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] [map_type:]file...";

[[noreturn]] void usage() { util::msg_fatal(kUsage, util::msg_program()); }

// The entries of the source, then the Sendmail and NIS entries. A table
// that must start over (LMDB growth) gets everything again.
void load_aliases(dict::Dict& table, const std::string& content, const std::string& path, bool incremental,
                  const std::string& myhostname) {
    const dict::Flags initial = table.flags();
    for (;;) {
        table.set_flags(initial);
        dict::AliasSource source(content, path, table.flags() & dict::kUtf8Active);
        bool restart = false;
        while (auto entry = source.next()) {
            if (postmap::update_or_die(table, entry->key, entry->value) == dict::ChangeStatus::restart) {
                restart = true;
                break;
            }
        }
        if (restart) continue;
        if (incremental) table.set_flags(table.flags() | dict::kDupReplace);
        if (postmap::update_or_die(table, "@", "@") == dict::ChangeStatus::restart) continue;
        table.set_flags((table.flags() & ~(dict::kTryNul | dict::kFoldFixed)) | dict::kTryNoNul);
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "%010ld", static_cast<long>(std::time(nullptr)));
        if (postmap::update_or_die(table, "YP_LAST_MODIFIED", stamp) == dict::ChangeStatus::restart) continue;
        if (postmap::update_or_die(table, "YP_MASTER_NAME", myhostname) == dict::ChangeStatus::restart) continue;
        return;
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace pf::postmap;

    start_program(argc, argv, "postalias");

    Options opts;
    opts.open_flags = O_RDWR | O_CREAT | O_TRUNC;
    opts.pair_separator = ":\t";
    int c;
    while ((c = ::getopt(argc, argv, "+Nc:d:finopq:rsuvw")) > 0)
        if (!common_option(c, opts)) usage();

    load_configuration(opts);

    char** maps = argv + optind;
    int count = argc - optind;
    if (auto status = table_operation(maps, count, opts, usage)) return *status;
    const bool incremental = !(opts.open_flags & O_TRUNC);
    for (int i = 0; i < count; ++i) {
        build_table_with(split_map(maps[i], opts.default_type), opts,
                         [&](dict::Dict& table, std::string content, const std::string& path, dict::Flags) {
                             load_aliases(table, content, path, incremental, opts.myhostname);
                         });
    }
    return 0;
}
