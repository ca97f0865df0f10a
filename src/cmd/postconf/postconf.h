// postconf(1): shared state of the command's parts (main.cf display and
// editing, master.cf display and editing, other listings).
#pragma once

#include "config/config.h"
#include "config/master_cf.h"

#include <set>
#include <string>
#include <vector>

namespace pf::postconf {

// Flag bits, one per option letter.
enum Flag : unsigned {
    kShowSaslServer = 1u << 0,   // -a
    kShowSaslClient = 1u << 1,   // -A
    kBounceTemplates = 1u << 2,  // -b
    kDefaults = 1u << 3,         // -d
    kEdit = 1u << 4,             // -e
    kFold = 1u << 5,             // -f
    kFields = 1u << 6,           // -F
    kNoNames = 1u << 7,          // -h
    kNoValues = 1u << 8,         // -H
    kLockTypes = 1u << 9,        // -l
    kMapTypes = 1u << 10,        // -m
    kMaster = 1u << 11,          // -M
    kNonDefault = 1u << 12,      // -n
    kMainCf = 1u << 13,          // -p
    kMasterParams = 1u << 14,    // -P
    kBounceTemplatesT = 1u << 15,// -t
    kTls = 1u << 16,             // -T
    kExpand = 1u << 17,          // -x
    kExclude = 1u << 18,         // -X
    kCommentOut = 1u << 19,      // -#
};

struct Options {
    unsigned flags = 0;
    int verbose = 0;
    std::string config_dir;  // from -c
    bool have_config_dir = false;
    std::vector<std::pair<std::string, std::string>> overrides;  // -o
    std::string tls_mode;  // -T
    // -C: which parameter classes to show (builtin, service, user).
    bool class_builtin = true, class_service = true, class_user = true;
    std::vector<std::string> args;
    bool has(unsigned f) const { return (flags & f) != 0; }
};

// The loaded configuration plus what postconf derives from it.
struct State {
    Options opts;
    config::Config config;
    std::vector<config::MasterEntry> master;
    bool master_loaded = false;
    std::set<std::string, std::less<>> user_defined;  // referenced user parameters
};

// main.cf parameters: display (-d, -n, default, named), -e, -X, -#.
int show_main_parameters(State& st);
int edit_main_cf(State& st);

// master.cf: -M, -F, -P, display and edits.
int show_master(State& st);
int edit_master(State& st);
// Option checks of the reference after its groups of exclusive options:
// "-o" with -d/-e/-X/-#, what -M/-F/-P do not take, missing arguments.
void check_master_options(const Options& opts);
// "master.cf: unused parameter" warnings (needs analyse_user_parameters and
// check_database_tables first).
void warn_unused_master_parameters(const State& st);

// Scans main.cf (and master.cf -o) values for parameter references; returns
// names of user-defined parameters. Warns about undefined references.
void analyse_user_parameters(State& st);
bool is_used_parameter(const State& st, std::string_view name);

// Finds database tables (ldap, mysql, pgsql, sqlite, memcache) named in main.cf
// and master.cf values; warns about their unknown settings, and marks the
// main.cf parameters of "type:name" tables (name_setting) as used.
void check_database_tables(State& st);

// Prints "name = value" (or the -h/-H forms), folding with -f.
void print_parameter(const Options& opts, std::string_view name, std::string_view value);

// -a -A -l -m -b -t -T.
int show_other(State& st);
// -b, -t: runs the bounce daemon's template listing in place of postconf.
[[noreturn]] int show_bounce_templates(State& st);

}  // namespace pf::postconf
