// posttls-finger(1)'s command line, as the reference 3.7.11 reads it:
//   posttls-finger [-acCfSvwX] [-t conn_tmout] [-T cmd_tmout] [-L logopts]
//     [-h host_lookup] [-l level] [-d mdalg] [-g grade] [-p protocols]
//     [-A tafile] [-F CAfile] [-P CApath] [-s servername]
//     [-H chainfiles | -k certfile [-K keyfile]] [-m count] [-r delay]
//     [-M insecure_mx_policy] [-o name=value] destination [match ...]
// Options end at the first non-option (no reordering, as the reference's
// getopt on Linux), numbers are read as atoi() reads them, and the checks
// made while and right after reading the options come with the
// reference's fatal texts ("bad '-a' option value: x", "The -X and -r
// options are mutually exclusive", ...). A malformed option or "-o" value
// is a usage error (the usage text on stderr, exit 1).
//
// Trust: the invoking user's arguments; nothing here touches the network.
#pragma once

#include "tls/tls_level.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pf::ptf {

struct Options {
    bool smtp = true;                  // -S: LMTP
    bool nochat = false;               // -c
    std::string addr_pref = "any";     // -a
    std::string host_lookup = "dns";   // -h
    std::vector<std::pair<std::string, std::string>> overrides;  // -o, in order
    int conn_tmout = 30;               // -t
    int smtp_tmout = 30;               // -T
    int verbose = 0;                   // -v
    std::vector<std::string> trust_anchors;  // -A
    bool print_trust = false;          // -C
    std::optional<std::string> mdalg;  // -d
    bool force_tlsa = false;           // -f
    std::string CAfile, CApath;        // -F, -P
    std::string grade = "medium";      // -g
    std::string chains;                // -H (", "-joined)
    std::string certfile, keyfile;     // -k, -K
    std::optional<std::string> level_name;  // -l
    std::string logopts = "routine,certmatch";  // -L
    unsigned log_mask = 0;             // what -L says (tls_log.h bits)
    int max_reconnect = 5;             // -m
    tls::Level mx_insecure = tls::Level::kDane;  // -M
    std::string protocols = ">=TLSv1"; // -p
    int reconnect = -1;                // -r
    std::string sni;                   // -s
    bool wrapper = false;              // -w
    bool tlsproxy = false;             // -X
    tls::Level level = tls::Level::kDane;  // from -l (checked)
    bool tls_disabled = false;         // -l none
    std::vector<std::string> args;     // destination and match arguments
};

// The usage text as the reference prints it (to stderr, then exit 1).
[[noreturn]] void usage(const char* program);

// Reads argv; usage() or a fatal error on bad input. The level checks
// ("Invalid TLS level", wrapper mode without TLS) are made here too, as
// the reference makes them while reading options.
Options parse_options(int argc, char** argv);

}  // namespace pf::ptf
