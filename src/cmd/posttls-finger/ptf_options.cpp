// posttls-finger(1) option parsing (see ptf_options.h).
//
// Trust: the invoking user's arguments, checked here.
#include "cmd/posttls-finger/ptf_options.h"

#include "tls/tls_log.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace pf::ptf {

void usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s [-acCfSvw] [-t conn_tmout] [-T cmd_tmout] [-L logopts] \\\n"
                 "\t[-h host_lookup] [-l level] [-d mdalg] [-g grade] [-p protocols] \\\n"
                 "\t[-A tafile] [-F CAfile.pem] [-P CApath/] [-s servername] \\\n"
                 "\t[ [-H chainfiles] | [-k certfile [-K keyfile]] ] \\\n"
                 "\t[-m count] [-r delay] [-o name=value] destination [match ...]\n",
                 program);
    std::exit(1);
}

namespace {

// "name = value" with optional blanks around both (the reference's
// split_nameval); false when there is no name or no '='.
bool split_nameval(std::string_view text, std::string& name, std::string& value) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
        return s;
    };
    auto eq = text.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view n = trim(text.substr(0, eq));
    if (n.empty() || n.find_first_of(" \t") != std::string_view::npos) return false;
    name = std::string(n);
    value = std::string(trim(text.substr(eq + 1)));
    return true;
}

}  // namespace

Options parse_options(int argc, char** argv) {
    Options o;
    const char* program = util::msg_program().c_str();
    // '+': stop at the first non-option, as the reference's getopt does.
    static constexpr char kOpts[] = "+a:ch:o:St:T:vA:Cd:fF:g:H:k:K:l:L:m:M:p:P:r:s:wX";
    int c;
    while ((c = ::getopt(argc, argv, kOpts)) > 0) {
        switch (c) {
        default: usage(program);
        case 'a': o.addr_pref = optarg; break;
        case 'c': o.nochat = true; break;
        case 'h': o.host_lookup = optarg; break;
        case 'o': {
            std::string name, value;
            if (!split_nameval(optarg, name, value)) usage(program);
            o.overrides.emplace_back(std::move(name), std::move(value));
            break;
        }
        case 'S': o.smtp = false; break;
        case 't': o.conn_tmout = std::atoi(optarg); break;
        case 'T': o.smtp_tmout = std::atoi(optarg); break;
        case 'v': ++o.verbose; break;
        case 'A': o.trust_anchors.emplace_back(optarg); break;
        case 'C': o.print_trust = true; break;
        case 'd': o.mdalg = std::string(optarg); break;
        case 'f': o.force_tlsa = true; break;
        case 'F': o.CAfile = optarg; break;
        case 'g': o.grade = optarg; break;
        case 'H':
            o.chains = o.chains.empty() ? std::string(optarg) : o.chains + ", " + optarg;
            break;
        case 'k':
            o.certfile = optarg;
            if (o.keyfile.empty()) o.keyfile = optarg;
            break;
        case 'K':
            o.keyfile = optarg;
            if (o.certfile.empty()) o.certfile = optarg;
            break;
        case 'l': o.level_name = std::string(optarg); break;
        case 'L': o.logopts = optarg; break;
        case 'm': o.max_reconnect = std::atoi(optarg); break;
        case 'M': {
            auto l = tls::level_lookup(optarg);
            if (!l || (*l != tls::Level::kMay && *l != tls::Level::kEncrypt && *l != tls::Level::kDane))
                util::msg_fatal("bad '-M' option value: {}", optarg);
            o.mx_insecure = *l;
            break;
        }
        case 'p': o.protocols = optarg; break;
        case 'P': o.CApath = optarg; break;
        case 'r': o.reconnect = std::atoi(optarg); break;
        case 's': o.sni = optarg; break;
        case 'w': o.wrapper = true; break;
        case 'X': o.tlsproxy = true; break;
        }
    }
    std::string pref = util::to_lower(o.addr_pref);
    if (pref != "any" && pref != "ipv4" && pref != "ipv6") util::msg_fatal("bad '-a' option value: {}", o.addr_pref);
    if (o.tlsproxy && o.reconnect >= 0) util::msg_fatal("The -X and -r options are mutually exclusive");
    for (auto word : util::split_tokens(o.host_lookup, ", \t\r\n")) {
        std::string w = util::to_lower(word);
        if (w != "dns" && w != "native")
            util::msg_fatal("unknown -h option value \"{}\" in \"{}\"", word, o.host_lookup);
    }
    if (!o.chains.empty() && !o.certfile.empty())
        util::msg_fatal("When the '-H' option is used, neither the '-k', nor the '-K' options may be used");
    // Read twice, as the reference does (once for the TLS log, once for
    // DANE's): an unknown word is warned about each time.
    o.log_mask = tls::log_mask("-L option", o.logopts);
    (void)tls::log_mask("-L option", o.logopts);
    if (o.level_name) {
        auto l = tls::level_lookup(*o.level_name);
        if (l && *l == tls::Level::kNone) {
            if (o.wrapper) util::msg_fatal("SSL wrapper mode requires that TLS not be disabled");
            o.level = tls::Level::kNone;
            o.tls_disabled = true;
        } else if (!l) {
            util::msg_fatal("Invalid TLS level \"{}\"", *o.level_name);
        } else {
            o.level = *l;
        }
    }
    for (int i = optind; i < argc; ++i) o.args.emplace_back(argv[i]);
    return o;
}

}  // namespace pf::ptf
