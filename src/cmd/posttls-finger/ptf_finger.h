// One posttls-finger(1) run, as the reference's: connect, read the
// greeting, EHLO (LHLO), STARTTLS when offered (or TLS at once with -w),
// the TLS handshake with the certificate checks of the level in effect,
// EHLO again over TLS (first connection only), QUIT; each line sent and
// received logged as "> ..." / "< ..." unless -c. With -r the session is
// cached in memory and the connection made again after the delay, until
// the cached session is reused, the server declines caching, or -m
// reconnections were made. Diagnostics are the reference's texts
// ("STARTTLS rejected: 454 ...", "EHLO rejected: ...", "SMTP service not
// available: ...", "Server is anonymous", "Reconnecting after N seconds").
// With -C the peer's certificate chain is printed (subject, issuer,
// digests, PEM) after the first handshake.
//
// Trust: the server is remote and hostile: replies are read with a line
// limit and their non-printable bytes shown as '?'; OpenSSL parses the
// TLS bytes.
#pragma once

#include "cmd/posttls-finger/ptf_options.h"
#include "tls/tls_context.h"

#include <memory>
#include <string>
#include <vector>

namespace pf::config { class Config; }

namespace pf::ptf {

struct FingerSetup {
    std::string myhostname;
    std::string mdalg;
    int line_limit = 2048;
    bool ipv4 = true, ipv6 = true;
    std::unique_ptr<tls::Context> tls;          // null: TLS off (-l none)
    std::vector<std::string> match;             // name patterns (verify/secure)
    std::vector<std::string> fingerprints;      // fingerprint level digests
    bool trust_anchors = false;                 // -A files are the trusted CAs
    bool bad_protocols = false;                 // -p cannot be parsed: no TLS session
};

// Runs the connections; returns when done. chain receives the -C output.
void run(const Options& options, const config::Config& config, FingerSetup& setup, std::string& chain);

}  // namespace pf::ptf
