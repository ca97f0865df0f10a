// TLS diagnostics as the reference writes them: the *_tls_loglevel value
// turned into a set of log features (0/none, 1/routine, 2/debug, ...
// and the feature names), the OpenSSL error queue written out as
// "TLS library problem: ..." warnings, and the one-line summary of a
// finished handshake ("Anonymous TLS connection established from ...").
//
// Trust: configuration text; OpenSSL's error strings.
#pragma once

#include <string>
#include <string_view>

namespace pf::tls {

enum LogBit : unsigned {
    kLogNone = 1u << 0,
    kLogSummary = 1u << 1,
    kLogUntrusted = 1u << 2,
    kLogPeerCert = 1u << 3,
    kLogCertMatch = 1u << 4,
    kLogVerbose = 1u << 5,
    kLogCache = 1u << 6,
    kLogDebug = 1u << 7,
};

// The mask for a loglevel value ("1", "routine", "summary, untrusted",
// ...). An unknown word is warned about as the reference does ("unknown
// PARAM value "x" in "value"") and makes the whole mask 0, as there.
unsigned log_mask(std::string_view param, std::string_view value);

// Writes out (and empties) OpenSSL's error queue, one warning per error.
void print_errors();

// What the summary line and the Received: header say about a session.
struct HandshakeSummary {
    std::string protocol;      // "TLSv1.3"
    std::string cipher;        // "TLS_AES_256_GCM_SHA384"
    int cipher_bits = 0;       // used
    int cipher_alg_bits = 0;   // of the algorithm
    std::string kex_name;      // "X25519", "ECDHE", "DHE"
    std::string kex_curve;
    int kex_bits = 0;
    std::string srvr_sig_name, srvr_sig_curve, srvr_sig_dgst;
    int srvr_sig_bits = 0;
    std::string clnt_sig_name, clnt_sig_curve, clnt_sig_dgst;
    int clnt_sig_bits = 0;
};

// The " key-exchange ... server-signature ... client-digest ..." tail the
// summary line and the Received: header share (empty before TLSv1.3).
std::string signature_details(const HandshakeSummary& s);

}  // namespace pf::tls
