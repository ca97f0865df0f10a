// One TLS connection on an SMTP socket: the handshake (server side after
// "220 Ready to start TLS" or at connect in wrapper mode; client side
// after the server's 220) within a time limit, then plaintext reads and
// writes for SmtpStream (it implements smtp::StreamTransport), the peer's
// certificate facts (subject CN, issuer CN, certificate and public-key
// fingerprints, trusted or not), and the reference's log lines: the
// handshake error lines ("SSL_accept error from X: -1" and the
// "TLS library problem" warnings, "... lost connection"), the peer
// certificate lines of loglevel 2 and the summary line of loglevel 1
// ("Anonymous TLS connection established from X: TLSv1.3 with cipher
// ... (256/256 bits) key-exchange ...", "established" also for a resumed
// session, as the reference says it), and the session cache steps of
// loglevel 2 ("looking up session ... in smtpd cache", "Reusing old
// session (RFC 5077 session ticket)", "save session ... to smtp cache").
//
// Trust: the peer is remote and hostile; OpenSSL does the parsing. The fd
// is borrowed (the session owns only the SSL object).
#pragma once

#include "smtp/smtp_stream.h"
#include "tls/tls_context.h"
#include "tls/tls_facts.h"   // PeerInfo, StartOptions
#include "tls/tls_log.h"

#include <openssl/ssl.h>

#include <expected>
#include <memory>
#include <string>

namespace pf::tls {

struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// The client cache key: prefix, '&' and the upper-case hex SHA-256 of the
// EHLO name, the OpenSSL version, the protocol list, the cipher list and
// the (empty) DANE and SNI data, as the reference salts it.
std::string client_cache_id(std::string_view prefix, std::string_view helo, std::string_view protocols,
                            std::string_view ciphers);

class Session : public smtp::StreamTransport {
public:
    // The handshake as server on fd; nullptr after its log lines when it
    // failed (the connection is then unusable).
    static std::unique_ptr<Session> accept(const Context& ctx, int fd, const StartOptions& opts);
    // The handshake as client; on failure the log lines are written and
    // nullptr returned.
    static std::unique_ptr<Session> connect(const Context& ctx, int fd, const StartOptions& opts);

    ~Session() override = default;

    std::expected<std::size_t, smtp::StreamError> read(char* buf, std::size_t len, int timeout) override;
    std::expected<void, smtp::StreamError> write(const char* buf, std::size_t len, int timeout) override;
    bool pending() const override;

    // Sends close_notify (bounded by timeout); without waiting for the
    // peer's, as the reference's fast shutdown.
    void shutdown(int timeout);

    const PeerInfo& peer() const { return peer_; }
    PeerInfo& peer() { return peer_; }
    const HandshakeSummary& summary() const { return summary_; }
    bool reused() const { return reused_; }
    // "Anonymous/Trusted/Untrusted/Verified TLS connection established
    // from|to namaddr: ..." (loglevel >= 1).
    std::string summary_line(bool server) const;
    SSL* ssl() const { return ssl_.get(); }

private:
    Session(SslPtr ssl, int fd, std::string namaddr) : ssl_(std::move(ssl)), fd_(fd), namaddr_(std::move(namaddr)) {}
    void collect(const Context& ctx, bool server, unsigned extra_mask, const StartOptions* client_opts = nullptr);
    void client_match(const StartOptions& opts, unsigned mask);
    void log_verify_error(bool server) const;

    SslPtr ssl_;
    int fd_;
    std::string namaddr_;
    PeerInfo peer_;
    HandshakeSummary summary_;
    bool reused_ = false;
};

// The fingerprint of a certificate (DER) or of its public key with the
// named digest ("sha256", "md5", ...), upper-case hex pairs joined by ':'.
// Empty when the digest is unknown.
std::string cert_fingerprint(X509* cert, std::string_view digest);
std::string pkey_fingerprint(X509* cert, std::string_view digest);

}  // namespace pf::tls
