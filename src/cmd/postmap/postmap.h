// postmap(1): shared declarations of the command's parts — start-up and
// options (postmap.cpp), building tables from source files
// (postmap_build.cpp), queries, deletions and walks (postmap_query.cpp), and
// the header/body query modes (postmap_message.cpp). Every user-visible
// string is the reference's (Postfix 3.7.11), as observed by running it.
#pragma once

#include "dict/dict.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pf::config {
class Config;
}

namespace pf::postmap {

// What the command was asked to do, after option parsing.
struct Options {
    dict::Flags dict_flags = dict::kDupWarn | dict::kFoldFixed | dict::kUtf8Request;
    int open_flags = 0;          // for building: O_RDWR|O_CREAT, plus O_TRUNC unless -i
    bool as_owner = true;        // -o clears: build as the owner of the source file
    bool save_perm = true;       // -p clears: new files inherit the source's read rights
    bool header_mode = false;    // -h
    bool body_mode = false;      // -b
    bool mime_mode = false;      // -m
    bool utf8_in_message = false;  // -U
    const char* query = nullptr;   // -q
    const char* delete_key = nullptr;  // -d
    bool sequence = false;       // -s
    std::string default_type;    // default_database_type
    std::string meta_directory;  // where dynamicmaps.cf would be
    size_t header_size_limit = 102400;
    std::string myhostname;      // postalias: YP_MASTER_NAME
    const char* pair_separator = "\t";  // -q - and -s lines; postalias: ":\t"
};

// postmap_common.cpp, shared with postalias (which also uses
// postmap_query.cpp):
// The reference makes sure descriptors 0, 1 and 2 are open.
void open_standard_descriptors();
// Program start: umask 022, standard descriptors, MAIL_VERBOSE, the program
// name from argv[0] (name when there is none).
void start_program(int argc, char** argv, const char* name);
// The options postmap and postalias share (-c -d -f -i -n -N -o -p -q -r -s
// -u -v -w); false for any other letter.
bool common_option(int c, Options& opts);
// After the options: main.cf, the start-up checks, UTF-8 support,
// import_environment, the table types, and the settings kept in opts.
void load_configuration(Options& opts);
// -d, -q or -s when asked for (the exit status); nullopt to build. Calls
// usage() when no table is named.
std::optional<int> table_operation(char** maps, int count, const Options& opts, void (*usage)());
// import_environment: NAME=VALUE words are set in the environment.
void import_environment(const config::Config& cfg);
// A "type:name" argument; without ':' the type is default_database_type.
struct MapSpec {
    std::string type;
    std::string name;
    std::string full() const { return type + ":" + name; }
};
MapSpec split_map(std::string_view arg, const std::string& default_type);

// Opens a table for reading or changing; a failure is fatal.
dict::DictPtr open_or_die(const MapSpec& map, int open_flags, dict::Flags flags);

// -F values are base64: decodes one for output; nullopt after the warning.
std::optional<std::string> decode_file_value(const dict::Dict& dict, std::string_view key, std::string_view value);

// Standard output as the reference buffers it (4096-byte blocks; what is
// still buffered when a fatal error ends the program is lost).
void print_output(std::string_view text);
void flush_output();

void build_table(const MapSpec& map, const Options& opts);
// The building steps common to postmap and postalias (postmap_build.cpp):
// opens the source (or standard input with -i) and the table, then calls
// load with the table, the source text, its name for warnings and the
// table's flags; closes the table after.
using SourceLoader = std::function<void(dict::Dict& table, std::string content, const std::string& source_path, dict::Flags flags)>;
void build_table_with(const MapSpec& map, const Options& opts, const SourceLoader& load);
// One update of a build; a failure is fatal ("table T:N: write error: ...").
dict::ChangeStatus update_or_die(dict::Dict& table, std::string_view key, std::string_view value);
// Each returns the exit status.
int query_key(char** maps, int count, const Options& opts);
int query_stdin(char** maps, int count, const Options& opts);
int delete_key(char** maps, int count, const Options& opts);
int delete_stdin(char** maps, int count, const Options& opts);
void show_table(const MapSpec& map, const Options& opts);
int query_message(char** maps, int count, const Options& opts);

}  // namespace pf::postmap
