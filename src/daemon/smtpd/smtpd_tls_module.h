// The boundary between smtpd and its TLS module, smtpd-tls.so: the one
// file that links OpenSSL into smtpd's address space, loaded (dlopen) at
// start-up only when the configuration offers TLS (smtpd_tls_security_level
// may/encrypt, smtpd_use_tls, smtpd_enforce_tls, wrapper mode), before the
// chroot, where the server context is built now too. An smtpd without TLS
// does not map libssl and libcrypto at all: their relocated data alone was
// about 400 KB private to every smtpd process. The reference links its TLS
// library into every smtpd; what it logs and replies is the same either way.
//
// The module lives beside the smtpd program (the daemon directory) and
// resolves smtpd's own functions (logging, configuration, the tlsmgr
// client's IPC) from the program, which exports them for it; it holds
// src/tls and the part of smtpd_tls.cpp that touches OpenSSL. Its one
// entry point, looked up by name, builds the server context; the session
// code talks to the handshake through TlsConnection.
//
// Trust: the module is ours, installed with smtpd; the settings are
// configuration; the peer behind a TlsConnection is hostile (OpenSSL
// parses its bytes, see tls/tls_session.h).
#pragma once

#include "smtp/smtp_stream.h"
#include "tls/tls_facts.h"
#include "tls/tls_log.h"

#include <memory>
#include <string>

namespace pf::config { class Config; }

namespace pf::smtpd {

struct TlsSettings;

// One server-side TLS connection after a successful handshake: the
// plaintext stream for SmtpStream plus what the handshake learnt.
class TlsConnection : public smtp::StreamTransport {
public:
    virtual const tls::HandshakeSummary& summary() const = 0;
    virtual const tls::PeerInfo& peer() const = 0;
    virtual bool reused() const = 0;       // a resumed session
    // "... TLS connection established from name[addr]: ..." (loglevel >= 1).
    virtual std::string summary_line() const = 0;
    // close_notify within timeout seconds, without waiting for the peer's.
    virtual void shutdown(int timeout) = 0;
};

// The server context, built once per process.
class TlsServer {
public:
    virtual ~TlsServer() = default;
    virtual unsigned log_mask() const = 0;   // tls::LogBit values of smtpd_tls_loglevel
    // The handshake on fd; nullptr after its log lines when it failed.
    virtual std::unique_ptr<TlsConnection> accept(int fd, const tls::StartOptions& opts) const = 0;
};

// The module's entry point. settings holds the levels and client
// certificate choices TlsSettings::from_config read (use_tls is set); the
// module adds the cipher grade and exclusions in effect and the context,
// with the reference's warnings, in its order (context left empty when
// TLS cannot be offered).
using TlsModuleInit = void(const config::Config& config, TlsSettings& settings);
inline constexpr const char kTlsModuleInit[] = "pf_smtpd_tls_init";
inline constexpr const char kTlsModuleFile[] = "smtpd-tls.so";

}  // namespace pf::smtpd
