// The process-wide OpenSSL contexts of the SMTP server and client, built
// from the *_tls_* parameters the way the reference builds them: the
// certificate/key pairs (RSA cert_file/key_file, ECDSA eccert_file/
// eckey_file, DSA dcert_file/dkey_file, or chain_files instead of all of
// those), CAfile/CApath, the protocol list, the cipher grade with its
// exclusions (tls_{high,medium,null}_cipherlist), the key-exchange groups
// (tls_eecdh_auto_curves), DH parameters (a file, else OpenSSL's built-in
// groups), client-certificate requests (smtpd_tls_ask_ccert) and the
// fingerprint digest; and session caching as tlsmgr's policy for the
// cache type allows it (server: session IDs kept in tlsmgr's cache and
// RFC 5077 tickets with tlsmgr's keys, none when the cache timeout is 0;
// client: sessions saved to and offered from tlsmgr's cache, see
// tls_mgr_client.h). Like the reference, a context that cannot be built
// is reported with warnings ("... disabling TLS support", also when
// tlsmgr cannot give the seed bytes) and is absent:
// the caller then answers STARTTLS with 454 or skips TLS.
//
// Trust: configuration and the files it names (read before the chroot,
// while still root).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace pf::config { class Config; }

namespace pf::tls {

struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

enum class Role { kServer, kClient };

// What one side's parameters say (prefix "smtpd" or "smtp"; "lmtp" reads
// the lmtp_tls_* names).
struct ContextSettings {
    Role role = Role::kServer;
    std::string prefix;            // "smtpd", "smtp", "lmtp"
    std::string loglevel;          // <prefix>_tls_loglevel value
    unsigned log_mask = 0;
    std::string cert_file, key_file, eccert_file, eckey_file, dcert_file, dkey_file, chain_files;
    std::string CAfile, CApath;
    std::string protocols;         // the list in effect (plain or mandatory)
    std::string cipher_grade;      // "medium", "high", "null"
    std::string cipher_exclusions; // blank-separated
    std::string fingerprint_digest;
    std::string dh_param_file;
    int verify_depth = 9;
    bool ask_ccert = false;        // server: request a client certificate
    bool no_server_cert_ok = false;  // smtpd_tls_cert_file = none
    // Global tls_* parameters.
    std::string high_cipherlist, medium_cipherlist, null_cipherlist;
    std::string eecdh_auto_curves;
    bool preempt_cipherlist = false;
    bool append_default_CA = false;
    // Session caching through tlsmgr: the cache type ("smtpd", "smtp",
    // "lmtp"; empty: no tlsmgr, no caching, no tickets) and
    // tls_session_ticket_cipher (server).
    std::string cache_type;
    std::string ticket_cipher = "aes-256-cbc";
    int daemon_random_bytes = 32;   // tls_daemon_random_bytes: the seed asked of tlsmgr
};

class Context {
public:
    Context(ContextSettings settings, SslCtxPtr ctx) : settings_(std::move(settings)), ctx_(std::move(ctx)) {}
    SSL_CTX* get() const { return ctx_.get(); }
    const ContextSettings& settings() const { return settings_; }
    unsigned log_mask() const { return settings_.log_mask; }
    // Changes what later sessions log (posttls-finger after its first
    // connection, as the reference's tls_update_app_logmask()).
    void set_log_mask(unsigned mask) { settings_.log_mask = mask; }
    // What tlsmgr's policy said at construction: sessions go to its cache
    // (cachable) and live this long (0: no caching, no tickets).
    bool cachable() const { return cachable_; }
    int cache_timeout() const { return cache_timeout_; }
    void set_cache_policy(bool cachable, int timeout) {
        cachable_ = cachable;
        cache_timeout_ = timeout;
    }
    // The cipher list a session uses: the grade's list with ":!x" for each
    // exclusion; empty (after a warning) when the grade is unknown.
    std::string cipher_list(std::string_view grade, std::string_view exclusions, std::string_view namaddr) const;

private:
    ContextSettings settings_;
    SslCtxPtr ctx_;
    bool cachable_ = false;
    int cache_timeout_ = 0;
};

// The first certificate verification error of the handshake in progress
// (one handshake at a time per process): what the reference's
// "certificate verification failed" line reports. Reset before each
// handshake by the session code.
struct VerifyFailure {
    int error = 0;                 // X509_V_OK: none
    int depth = 0;
    std::string issuer;            // one-line issuer name of that certificate
    // Set by the session code for the callbacks' log lines (loglevel 2).
    std::string namaddr;
    bool verbose = false;          // "depth=N verify=N subject=..." lines
    bool cache_log = false;        // session ticket lines
    // Session caching of the handshake in progress.
    std::string cache_type;        // empty: not cached
    std::string serverid;          // server: service name; client: the lookup key
    bool ticketed = false;         // server: the client's ticket was decrypted
};
VerifyFailure& last_verify_failure();

// Builds the context; nullptr after the reference's warnings when a file
// or setting is unusable.
std::unique_ptr<Context> make_context(const ContextSettings& settings);

// Reads the parameters common to every role from config (the caller
// fills in the choices that depend on the security level).
ContextSettings settings_from_config(const config::Config& config, Role role, std::string_view prefix);

}  // namespace pf::tls
