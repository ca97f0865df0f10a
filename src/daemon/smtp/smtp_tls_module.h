// The boundary between smtp(8)/lmtp(8) and their TLS module, smtp-tls.so:
// the one file that links OpenSSL into the client's address space, loaded
// (dlopen) at start-up, before the chroot, only when the settings can ask
// for TLS (a security level other than none from smtp_tls_security_level
// or the legacy smtp_use_tls/smtp_enforce_tls, smtp_tls_policy_maps, or
// smtp_tls_wrappermode; lmtp_* for lmtp). A client without TLS maps
// neither libssl nor libcrypto: master restarts smtp processes all the
// time (max_use), and loading and relocating OpenSSL was most of their
// start-up (issue 9). The reference links its TLS library into every smtp
// process; what it logs and how it delivers is the same either way.
//
// The module lives beside the smtp program (the daemon directory) and
// holds src/tls plus the OpenSSL calls of the client's checks
// (tls_module/smtp_tls_module.cpp). It resolves the program's own pf::
// functions (logging, configuration, the tlsmgr client's IPC, tables)
// from the program, which exports them for it (the --dynamic-list of
// smtpd's module, the same pf:: names). smtp takes libstdc++ from the
// static archive (a lean daemon, see CMakeLists.txt), and so does the
// module, each with a private copy: only layouts cross this boundary
// (std::string, smart pointers, the structs below; allocation is malloc
// in both copies), never an exception, a stream or a locale.
//
// Trust: the module is ours, installed with smtp; the settings are
// configuration; the server behind a TlsClientSession is hostile (OpenSSL
// parses its bytes, see tls/tls_session.h).
#pragma once

#include "smtp/smtp_stream.h"
#include "tls/tls_facts.h"

#include <memory>
#include <string>
#include <string_view>

namespace pf::config { class Config; }

namespace pf::smtp_agent {

// One client-side TLS connection after a successful handshake: the
// plaintext stream for SmtpStream plus what the handshake learnt.
class TlsClientSession : public smtp::StreamTransport {
public:
    virtual const tls::PeerInfo& peer() const = 0;
    virtual tls::PeerInfo& peer() = 0;
    // "... TLS connection established to name[addr]:port: ..." (loglevel >= 1).
    virtual std::string summary_line() const = 0;
    // Whether the peer certificate names host (X509_check_host; with
    // subdomains, a name one label below it).
    virtual bool certificate_names(std::string_view host, bool subdomains) const = 0;
};

// One client context (the *_tls_protocols or *_tls_mandatory_protocols
// one), built once per process.
class TlsClientContext {
public:
    virtual ~TlsClientContext() = default;
    virtual unsigned log_mask() const = 0;   // tls::LogBit values of *_tls_loglevel
    // The handshake on fd; nullptr after its log lines when it failed.
    virtual std::unique_ptr<TlsClientSession> connect(int fd, const tls::StartOptions& opts) const = 0;
};

// What the module's entry point builds (contexts left empty when they
// cannot be built, after the reference's warnings).
struct TlsClientContexts {
    std::shared_ptr<TlsClientContext> opportunistic;   // *_tls_protocols
    std::shared_ptr<TlsClientContext> mandatory;       // *_tls_mandatory_protocols
    // "num=N:text" of OpenSSL's DANE mismatch (the fingerprint level's
    // mismatch line reports it).
    std::string dane_no_match;
};

// The module's entry point: prefix is "smtp" or "lmtp".
using TlsModuleInit = void(const config::Config& config, const std::string& prefix, TlsClientContexts& out);
inline constexpr const char kTlsModuleInit[] = "pf_smtp_tls_init";
inline constexpr const char kTlsModuleFile[] = "smtp-tls.so";

}  // namespace pf::smtp_agent
