// postconf(1): command-line parsing and dispatch. Reproduces the reference's
// options, their incompatibilities, usage text and exit codes.
#include "postconf.h"

#include "config/host_defaults.h"
#include "util/msg.h"
#include "util/strings.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pf::postconf {
namespace {

struct FlagName {
    unsigned flag;
    const char* name;
};
// In the order the reference names them in "specify one of" messages.
constexpr FlagName kFlagNames[] = {
    {kShowSaslServer, "-a"}, {kShowSaslClient, "-A"}, {kBounceTemplates, "-b"}, {kDefaults, "-d"},
    {kEdit, "-e"},           {kFold, "-f"},           {kFields, "-F"},          {kNoNames, "-h"},
    {kNoValues, "-H"},       {kLockTypes, "-l"},      {kMapTypes, "-m"},        {kMaster, "-M"},
    {kNonDefault, "-n"},     {kMainCf, "-p"},         {kMasterParams, "-P"},    {kBounceTemplatesT, "-t"},
    {kTls, "-T"},            {kExpand, "-x"},         {kExclude, "-X"},         {kCommentOut, "-#"},
};

[[noreturn]] void usage(const char* argv0) {
    util::msg_fatal(
        "usage: {} [-a (server SASL types)] [-A (client SASL types)] [-b (bounce templates)] [-c config_dir] "
        "[-c param_class] [-d (parameter defaults)] [-e (edit configuration)] [-f (fold lines)] "
        "[-F (master.cf fields)] [-h (no names)] [-H (no values)] [-l (lock types)] [-m (map types)] "
        "[-M (master.cf)] [-n (non-default parameters)] [-o name=value (override parameter value)] "
        "[-p (main.cf, default)] [-P (master.cf parameters)] [-t (bounce templates)] "
        "[-T compile-version|run-version|public-key-algorithms] [-v (verbose)] [-x (expand parameter values)] "
        "[-X (exclude)] [-# (comment-out)] [name...]",
        argv0);
}

// Groups of options of which at most one may be given.
void check_exclusive(unsigned flags, unsigned group) {
    unsigned set = flags & group;
    if ((set & (set - 1)) == 0) return;
    std::string names;
    for (const auto& f : kFlagNames) {
        if (set & f.flag) {
            if (!names.empty()) names += ' ';
            names += f.name;
        }
    }
    util::msg_fatal("specify one of {}", names);
}

}  // namespace
}  // namespace pf::postconf

int main(int argc, char** argv) {
    using namespace pf;
    using namespace pf::postconf;
    util::msg_set_program(argc > 0 ? argv[0] : "postconf");
    config::set_process_name(argc > 0 ? argv[0] : "postconf");

    Options opts;
    int ch;
    opterr = 1;
    while ((ch = ::getopt(argc, argv, "+aAbc:C:deEfFhHlmMno:pPtT:vxX#")) != -1) {
        switch (ch) {
        case 'a': opts.flags |= kShowSaslServer; break;
        case 'A': opts.flags |= kShowSaslClient; break;
        case 'b': opts.flags |= kBounceTemplates; break;
        case 'c':
            opts.config_dir = optarg;
            opts.have_config_dir = true;
            break;
        case 'C': {
            std::string_view v = optarg;
            opts.class_builtin = opts.class_service = opts.class_user = false;
            for (auto c : util::split_tokens(v, ", \t")) {
                if (c == "builtin") opts.class_builtin = true;
                else if (c == "service") opts.class_service = true;
                else if (c == "user") opts.class_user = true;
                else if (c == "all") opts.class_builtin = opts.class_service = opts.class_user = true;
                else util::msg_fatal("unknown -C option value \"{}\" in \"{}\"", c, v);
            }
            break;
        }
        case 'd': opts.flags |= kDefaults; break;
        case 'e': opts.flags |= kEdit; break;
        case 'E': break;
        case 'f': opts.flags |= kFold; break;
        case 'F': opts.flags |= kFields; break;
        case 'h': opts.flags |= kNoNames; break;
        case 'H': opts.flags |= kNoValues; break;
        case 'l': opts.flags |= kLockTypes; break;
        case 'm': opts.flags |= kMapTypes; break;
        case 'M': opts.flags |= kMaster; break;
        case 'n': opts.flags |= kNonDefault; break;
        case 'o': {
            std::string error;
            auto nv = config::split_name_value(optarg, error);
            if (!nv) util::msg_fatal("invalid parameter override: {}: {}", optarg, error);
            opts.overrides.emplace_back(std::move(nv->name), std::move(nv->value));
            break;
        }
        case 'p': opts.flags |= kMainCf; break;
        case 'P': opts.flags |= kMasterParams; break;
        case 't': opts.flags |= kBounceTemplatesT; break;
        case 'T':
            opts.flags |= kTls;
            opts.tls_mode = optarg;
            break;
        case 'v':
            opts.verbose++;
            util::msg_verbose++;
            break;
        case 'x': opts.flags |= kExpand; break;
        case 'X': opts.flags |= kExclude; break;
        case '#': opts.flags |= kCommentOut; break;
        default: usage(argv[0]);
        }
    }
    for (int i = optind; i < argc; ++i) opts.args.emplace_back(argv[i]);

    // "postconf name=value" edits main.cf as -e does (master.cf with -M/-F/-P);
    // with -b/-t the argument is a template file name.
    if (!opts.has(kBounceTemplates | kBounceTemplatesT) && !opts.args.empty() &&
        opts.args.front().find('=') != std::string::npos)
        opts.flags |= kEdit;

    // What may not be combined.
    if (opts.has(kBounceTemplates) && opts.has(kBounceTemplatesT)) util::msg_fatal("specify one of -b and -t");
    const unsigned commands = kShowSaslServer | kShowSaslClient | kBounceTemplates | kBounceTemplatesT | kLockTypes |
                              kMapTypes | kTls | kMaster | kFields | kMasterParams | kMainCf;
    check_exclusive(opts.flags, commands);
    // The reference's groups of modifiers of which at most one may be given.
    const unsigned edits = kEdit | kExclude | kCommentOut;
    check_exclusive(opts.flags, kDefaults | kNonDefault | edits);
    check_exclusive(opts.flags, kFold | edits);
    check_exclusive(opts.flags, kExpand | edits);
    check_exclusive(opts.flags, kNoNames | kNoValues | edits);
    check_master_options(opts);
    if (opts.has(kEdit) && !opts.has(kMaster | kFields | kMasterParams | kBounceTemplates | kBounceTemplatesT) &&
        opts.args.empty())
        util::msg_fatal("-e requires name=value argument");
    check_exclusive(opts.flags, kNoNames | kNoValues);
    if (opts.has(kDefaults) && !opts.overrides.empty()) util::msg_fatal("specify one of -d -o");

    State st{opts, config::Config(config::resolve_config_directory(opts.have_config_dir ? opts.config_dir.c_str() : nullptr)), {}, false, {}};
    for (const auto& [k, v] : opts.overrides) st.config.set_override(k, v);

    if (opts.has(kShowSaslServer | kShowSaslClient | kBounceTemplates | kBounceTemplatesT | kLockTypes | kMapTypes | kTls))
        return show_other(st);
    if (opts.has(kMaster | kFields | kMasterParams)) {
        if (opts.has(kEdit | kExclude | kCommentOut)) return edit_master(st);
        return show_master(st);
    }
    if (opts.has(kEdit | kExclude | kCommentOut)) {
        if (opts.has(kExclude | kCommentOut) && opts.args.empty()) util::msg_fatal("missing service argument");
        return edit_main_cf(st);
    }
    return show_main_parameters(st);
}
