// The plain facts of one TLS connection that code outside the OpenSSL
// wrappers handles: what the handshake learnt about the peer (PeerInfo)
// and what a caller asks of a handshake (StartOptions). Kept apart from
// tls_session.h, which needs OpenSSL's headers, so that smtpd can speak
// of a TLS session without linking OpenSSL (smtpd loads its TLS code
// only when TLS is configured, see daemon/smtpd/smtpd_tls_module.h).
//
// Trust: PeerInfo's names come from the peer's certificate, made
// printable by the session code; StartOptions are the caller's.
#pragma once

#include <string>
#include <vector>

namespace pf::tls {

// What the handshake learnt about the peer.
struct PeerInfo {
    bool cert_present = false;
    bool trusted = false;          // the chain verified against the CAs
    bool verified = false;         // trusted and the name matched (client side)
    std::string peer_CN;
    std::string issuer_CN;
    std::string cert_fingerprint;  // "AB:CD:..." with the digest in use
    std::string pkey_fingerprint;
    std::string subject_line, issuer_line;  // one-line X509 names
    long verify_result = 0;
};

struct StartOptions {
    int timeout = 300;
    std::string namaddr;           // "name[addr]" for the log lines
    std::string cipher_grade;      // the grade in effect for this session
    std::string cipher_exclusions;
    std::string server_name;       // client: SNI (empty: none)
    bool require_cert = false;     // a trusted peer certificate is required (its failure is logged)
    // Session caching (contexts whose tlsmgr policy allows it). Server:
    // the service name that partitions the cache; client: the lookup key's
    // prefix ("service&nexthop&host&addr&", the reference's) and the
    // server's EHLO name, both salted with the protocol and cipher lists
    // into the key (client_cache_id()).
    std::string serverid;
    std::string helo;
    // Client: the peer names OpenSSL checks in the certificate during the
    // handshake (the reference's match list after "nexthop", "hostname"
    // ... are resolved; a leading '.' matches subdomains), and the
    // certificate or public-key digests of the fingerprint level ("AB:CD:..."
    // or without colons, any case). With either list non-empty the session
    // decides "verified" itself and logs the match ("matched peername: X",
    // "Matched fingerprint: X") or the mismatch as the reference's
    // verification step does; empty: the caller checks the peer afterwards.
    std::vector<std::string> match_names;
    std::vector<std::string> match_fingerprints;
    // The CAs are trust anchors: a matched chain also logs "Matched trust
    // anchor at depth N" (the reference's -A of posttls-finger).
    bool log_trust_anchor = false;
    // Server: after a failed handshake log only the TLS library's error
    // lines, without the "SSL_accept error from ..." line (tlsproxy: the
    // reference's proxy runs the handshake from its event loop, which
    // logs no such line).
    bool library_errors_only = false;
    // Client: the name checks could not be set up (every match name was
    // invalid): the peer is never trusted, as the reference's "must_fail".
    bool must_fail = false;
};

}  // namespace pf::tls
