// TLS handshake, timed I/O and peer facts (see tls_session.h). The socket
// is put in non-blocking mode for the length of the TLS conversation; each
// OpenSSL call that wants to read or write waits with poll(2) within one
// deadline per call, as the reference's timed TLS I/O.
//
// Trust: peer bytes are hostile; only OpenSSL parses them. Names taken
// from certificates are made printable before they are logged.
#include "tls/tls_session.h"

#include "tls/tls_mgr_client.h"
#include "tls/tls_scache.h"
#include "util/msg.h"

#include <fmt/core.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <poll.h>

namespace pf::tls {

namespace {

using Clock = std::chrono::steady_clock;

// Waits until fd is ready for events before deadline; false on timeout.
bool wait_until(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left < 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) return true;
    }
}

enum class IoStatus { kDone, kTimeout, kFailed };

// Runs op (an SSL_* call returning > 0 on success) until it completes,
// fails, or the deadline passes. result receives op's last return value.
template <typename Op>
IoStatus run_io(SSL* ssl, int fd, int timeout, Op op, int& result) {
    auto deadline = Clock::now() + std::chrono::seconds(timeout);
    for (;;) {
        ERR_clear_error();
        errno = 0;
        result = op();
        if (result > 0) return IoStatus::kDone;
        int err = SSL_get_error(ssl, result);
        if (err == SSL_ERROR_WANT_READ) {
            if (!wait_until(fd, POLLIN, deadline)) return IoStatus::kTimeout;
        } else if (err == SSL_ERROR_WANT_WRITE) {
            if (!wait_until(fd, POLLOUT, deadline)) return IoStatus::kTimeout;
        } else {
            return IoStatus::kFailed;
        }
    }
}

void set_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

std::string printable(std::string_view text) {
    std::string out;
    for (char ch : text) {
        unsigned char c = static_cast<unsigned char>(ch);
        out.push_back(c < 32 || c >= 127 ? '?' : ch);
    }
    return out;
}

std::string name_entry(X509_NAME* name, int nid) {
    if (!name) return {};
    int pos = X509_NAME_get_index_by_NID(name, nid, -1);
    if (pos < 0) return {};
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, pos);
    ASN1_STRING* data = entry ? X509_NAME_ENTRY_get_data(entry) : nullptr;
    if (!data) return {};
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    if (out.find('\0') != std::string::npos) return {};
    return printable(out);
}

std::string oneline(X509_NAME* name) {
    char buf[1024];
    if (!name || !X509_NAME_oneline(name, buf, sizeof buf)) return {};
    return printable(buf);
}

std::string hex_digest(const unsigned char* md, unsigned len) {
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        if (i) out.push_back(':');
        util::append_hex_byte(out, md[i]);
    }
    return out;
}

std::string curve_name(EVP_PKEY* pkey) {
    char name[80];
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1) return {};
    return std::string(name, len);
}

// What the reference calls a key's signature algorithm name.
void key_signature(EVP_PKEY* pkey, std::string& name, std::string& curve, int& bits) {
    int id = EVP_PKEY_get_id(pkey);
    if (id == EVP_PKEY_RSA) {
        name = "RSA-PSS";
        bits = EVP_PKEY_get_bits(pkey);
    } else if (id == EVP_PKEY_EC) {
        name = "ECDSA";
        curve = curve_name(pkey);
    } else if (id != NID_undef) {
        int type = EVP_PKEY_type(id);
        if (type != NID_undef && OBJ_nid2sn(type)) name = OBJ_nid2sn(type);
    } else if (const char* n = EVP_PKEY_get0_type_name(pkey)) {
        name = n;
    }
}

// The loglevel-2 trace of the handshake's states and alerts, in the
// reference's words ("SSL_accept:SSLv3/TLS write server hello").
void info_callback(const SSL* ssl, int where, int ret) {
    int w = where & ~SSL_ST_MASK;
    const char* str = (w & SSL_ST_CONNECT) ? "SSL_connect" : (w & SSL_ST_ACCEPT) ? "SSL_accept" : "unknown";
    if (where & SSL_CB_LOOP) {
        util::msg_info("{}:{}", str, SSL_state_string_long(ssl));
    } else if (where & SSL_CB_ALERT) {
        if ((ret & 0xff) != SSL3_AD_CLOSE_NOTIFY)
            util::msg_info("SSL3 alert {}:{}:{}", (where & SSL_CB_READ) ? "read" : "write",
                           SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
    } else if (where & SSL_CB_EXIT) {
        if (ret == 0) {
            util::msg_info("{}:failed in {}", str, SSL_state_string_long(ssl));
        } else if (ret < 0) {
            int e = SSL_get_error(ssl, ret);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                util::msg_info("{}:error in {}", str, SSL_state_string_long(ssl));
        }
    }
}

// Before a handshake: the callbacks' state for this session.
void prepare(SSL* ssl, unsigned mask, const std::string& namaddr) {
    VerifyFailure& f = last_verify_failure();
    f = VerifyFailure{};
    f.namaddr = namaddr;
    f.verbose = (mask & kLogVerbose) != 0;
    f.cache_log = (mask & kLogCache) != 0;
    if (mask & kLogDebug) SSL_set_info_callback(ssl, info_callback);
}

// The reference's log line for a failed handshake ("SSL_accept error
// from X: ..." / "SSL_connect error to X: ..."); errno is read first.
void log_handshake_failure(std::string_view what, const std::string& namaddr, IoStatus st, int rc) {
    int saved = errno;
    if (ERR_peek_error() != 0) {
        util::msg_info("{} {}: {}", what, namaddr, rc);
        print_errors();
    } else if (st == IoStatus::kTimeout) {
        util::msg_info("{} {}: Connection timed out", what, namaddr);
    } else if (saved != 0) {
        util::msg_info("{} {}: {}", what, namaddr, std::strerror(saved));
    } else {
        util::msg_info("{} {}: lost connection", what, namaddr);
    }
}

// The client's cached session for a server whose handshake failed leaves
// the cache (the reference's uncache_session()).
void uncache_client() {
    const VerifyFailure& f = last_verify_failure();
    if (f.cache_type.empty() || f.serverid.empty()) return;
    if (f.cache_log) util::msg_info("remove session {} from client cache", f.serverid);
    (void)mgr_delete(f.cache_type, f.serverid);
}

}  // namespace

std::string client_cache_id(std::string_view prefix, std::string_view helo, std::string_view protocols,
                            std::string_view ciphers) {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), nullptr) == 1;
    auto add = [&](const void* p, std::size_t n) { ok = ok && EVP_DigestUpdate(md, p, n) == 1; };
    auto add_string = [&](std::string_view text) {
        std::string z(text);
        add(z.c_str(), z.size() + 1);   // with the terminating NUL
    };
    long version = static_cast<long>(OpenSSL_version_num());
    int must_fail = 0;
    int tlsa_count = 0;
    add_string(helo);
    add(&version, sizeof version);
    add_string(protocols);
    add_string(ciphers);
    add(&must_fail, sizeof must_fail);
    add(&tlsa_count, sizeof tlsa_count);
    add_string("");   // no SNI name
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    ok = ok && EVP_DigestFinal_ex(md, buf, &len) == 1;
    if (md) EVP_MD_CTX_free(md);
    if (!ok) util::msg_fatal("error computing sha256 message digest");
    return fmt::format("{}&{}", prefix, hex_encode(std::string_view(reinterpret_cast<const char*>(buf), len)));
}

std::string cert_fingerprint(X509* cert, std::string_view digest) {
    const EVP_MD* md = EVP_get_digestbyname(std::string(digest).c_str());
    if (!md || !cert) return {};
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!X509_digest(cert, md, buf, &len)) return {};
    return hex_digest(buf, len);
}

std::string pkey_fingerprint(X509* cert, std::string_view digest) {
    const EVP_MD* md = EVP_get_digestbyname(std::string(digest).c_str());
    if (!md || !cert) return {};
    // The digest of the DER SubjectPublicKeyInfo, as the reference
    // computes it (not just the key bits).
    unsigned char* der = nullptr;
    int der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    if (der_len <= 0) return {};
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    bool ok = EVP_Digest(der, static_cast<std::size_t>(der_len), buf, &len, md, nullptr) == 1;
    OPENSSL_free(der);
    if (!ok) return {};
    return hex_digest(buf, len);
}

namespace {

// The SSL object of one connection, before its handshake: the cipher
// list of opts, the server name (SNI) a client sends, the fd (made
// non-blocking) and the logging callbacks. Null, with the reference's
// diagnostics, when one of them fails; ciphers receives the cipher list.
SslPtr new_connection(const Context& ctx, int fd, const StartOptions& opts, bool server, std::string& ciphers) {
    const unsigned mask = ctx.log_mask();
    if (mask & kLogVerbose) util::msg_info("setting up TLS connection {} {}", server ? "from" : "to", opts.namaddr);
    SslPtr ssl(SSL_new(ctx.get()));
    if (!ssl) {
        util::msg_warn("Could not allocate 'TLScontext->con' with SSL_new()");
        print_errors();
        return nullptr;
    }
    ciphers = ctx.cipher_list(opts.cipher_grade, opts.cipher_exclusions, opts.namaddr);
    if (ciphers.empty()) return nullptr;
    if (mask & kLogVerbose) util::msg_info("{}: TLS cipher list \"{}\"", opts.namaddr, ciphers);
    ERR_clear_error();
    if (SSL_set_cipher_list(ssl.get(), ciphers.c_str()) == 0) {
        util::msg_warn("{}: error setting cipher grade: \"{}\"", opts.namaddr, opts.cipher_grade);
        print_errors();
        return nullptr;
    }
    if (!server && !opts.server_name.empty()) SSL_set_tlsext_host_name(ssl.get(), opts.server_name.c_str());
    // The names to match, checked by OpenSSL as part of the chain
    // verification (no partial-label wildcards, as RFC 6125 asks for SMTP).
    if (!server && !opts.match_names.empty()) {
        SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        for (const auto& name : opts.match_names)
            if (!SSL_add1_host(ssl.get(), name.c_str()))
                util::msg_warn("{}: error loading match name: \"{}\"", opts.namaddr, name);
    }
    if (SSL_set_fd(ssl.get(), fd) != 1) {
        util::msg_info("SSL_set_fd error to {}", opts.namaddr);
        return nullptr;
    }
    set_nonblocking(fd);
    prepare(ssl.get(), mask, opts.namaddr);
    return ssl;
}

}  // namespace

std::unique_ptr<Session> Session::accept(const Context& ctx, int fd, const StartOptions& opts) {
    std::string ciphers;
    SslPtr ssl = new_connection(ctx, fd, opts, true, ciphers);
    if (!ssl) return nullptr;
    if (ctx.cachable()) {
        VerifyFailure& f = last_verify_failure();
        f.cache_type = ctx.settings().cache_type;
        f.serverid = opts.serverid;
    }
    int rc = 0;
    SSL* raw = ssl.get();
    IoStatus st = run_io(raw, fd, opts.timeout, [raw] { return SSL_accept(raw); }, rc);
    if (st != IoStatus::kDone) {
        if (!opts.library_errors_only) log_handshake_failure("SSL_accept error from", opts.namaddr, st, rc);
        else if (ERR_peek_error() != 0) print_errors();
        return nullptr;
    }
    std::unique_ptr<Session> s(new Session(std::move(ssl), fd, opts.namaddr));
    s->collect(ctx, true, opts.require_cert ? kLogUntrusted : 0u);
    return s;
}

std::unique_ptr<Session> Session::connect(const Context& ctx, int fd, const StartOptions& opts) {
    std::string ciphers;
    SslPtr ssl = new_connection(ctx, fd, opts, false, ciphers);
    if (!ssl) return nullptr;
    if (ctx.cachable() && !opts.serverid.empty()) {
        VerifyFailure& f = last_verify_failure();
        f.cache_type = ctx.settings().cache_type;
        f.serverid = client_cache_id(opts.serverid, opts.helo, ctx.settings().protocols, ciphers);
        if (f.cache_log) util::msg_info("looking for session {} in {} cache", f.serverid, f.cache_type);
        std::string data;
        if (mgr_lookup(f.cache_type, f.serverid, data) == kMgrOk) {
            const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
            if (SSL_SESSION* session = d2i_SSL_SESSION(nullptr, &p, static_cast<long>(data.size()))) {
                if (f.cache_log) util::msg_info("reloaded session {} from {} cache", f.serverid, f.cache_type);
                SSL_set_session(ssl.get(), session);
                SSL_SESSION_free(session);
            }
            ERR_clear_error();
        }
    }
    int rc = 0;
    SSL* raw = ssl.get();
    IoStatus st = run_io(raw, fd, opts.timeout, [raw] { return SSL_connect(raw); }, rc);
    if (st != IoStatus::kDone) {
        log_handshake_failure("SSL_connect error to", opts.namaddr, st, rc);
        uncache_client();
        return nullptr;
    }
    std::unique_ptr<Session> s(new Session(std::move(ssl), fd, opts.namaddr));
    s->collect(ctx, false, opts.require_cert ? kLogUntrusted : 0u, &opts);
    return s;
}

namespace {

std::string digest_key(std::string_view fp) {
    std::string out;
    for (char c : fp)
        if (c != ':') out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
}

}  // namespace

void Session::collect(const Context& ctx, bool server, unsigned extra_mask, const StartOptions* client_opts) {
    SSL* ssl = ssl_.get();
    const unsigned mask = ctx.log_mask() | extra_mask;
    const std::string& mdalg = ctx.settings().fingerprint_digest;
    reused_ = SSL_session_reused(ssl) != 0;
    if (reused_ && (mask & kLogCache))
        util::msg_info("{}: Reusing old session{}", namaddr_,
                       server && last_verify_failure().ticketed ? " (RFC 5077 session ticket)" : "");
    X509* peer = SSL_get1_peer_certificate(ssl);
    if (peer) {
        peer_.cert_present = true;
        peer_.verify_result = SSL_get_verify_result(ssl);
        peer_.trusted = peer_.verify_result == X509_V_OK;
        peer_.subject_line = oneline(X509_get_subject_name(peer));
        peer_.issuer_line = oneline(X509_get_issuer_name(peer));
        if ((mask & kLogVerbose) && server) {
            util::msg_info("subject={}", peer_.subject_line);
            util::msg_info("issuer={}", peer_.issuer_line);
        }
        peer_.peer_CN = name_entry(X509_get_subject_name(peer), NID_commonName);
        peer_.issuer_CN = name_entry(X509_get_issuer_name(peer), NID_commonName);
        if (peer_.issuer_CN.empty()) peer_.issuer_CN = name_entry(X509_get_issuer_name(peer), NID_organizationName);
        peer_.cert_fingerprint = cert_fingerprint(peer, mdalg);
        peer_.pkey_fingerprint = pkey_fingerprint(peer, mdalg);
        // A client with a match list: the match, or why there was none,
        // comes before the certificate line, as the reference's client
        // logs them.
        if (!server && client_opts &&
            (!client_opts->match_names.empty() || !client_opts->match_fingerprints.empty() ||
             client_opts->must_fail)) {
            client_match(*client_opts, mask);
        } else if (!server && !peer_.trusted && (mask & kLogUntrusted)) {
            if (reused_)
                util::msg_info("{}: re-using session with untrusted certificate, look for details earlier in the log",
                               namaddr_);
            else
                log_verify_error(server);
        }
        // The server's and the client's lines differ in the reference.
        if ((mask & (kLogVerbose | kLogPeerCert)) && server)
            util::msg_info("{}: subject_CN={}, issuer={}{}{}{}{}", namaddr_, peer_.peer_CN, peer_.issuer_CN,
                           peer_.cert_fingerprint.empty() ? "" : ", fingerprint=", peer_.cert_fingerprint,
                           peer_.pkey_fingerprint.empty() ? "" : ", pkey_fingerprint=", peer_.pkey_fingerprint);
        else if (!server && (mask & (kLogCertMatch | kLogVerbose | kLogPeerCert)))
            util::msg_info("{}: subject_CN={}, issuer_CN={}, fingerprint={}, pkey_fingerprint={}", namaddr_,
                           peer_.peer_CN, peer_.issuer_CN, peer_.cert_fingerprint, peer_.pkey_fingerprint);
        if (server && !peer_.trusted && (mask & kLogUntrusted)) {
            // A resumed session had its certificate checked (and logged)
            // when it was first made.
            if (reused_)
                util::msg_info("{}: re-using session with untrusted certificate, look for details earlier in the log",
                               namaddr_);
            else
                log_verify_error(server);
        }
    }
    summary_.protocol = SSL_get_version(ssl);
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    summary_.cipher = cipher ? SSL_CIPHER_get_name(cipher) : "";
    summary_.cipher_bits = cipher ? SSL_CIPHER_get_bits(cipher, &summary_.cipher_alg_bits) : 0;

    // TLSv1.3 details: key exchange and the signature keys of both ends.
    if (SSL_version(ssl) >= TLS1_3_VERSION) {
        EVP_PKEY* kex = nullptr;
        if (server ? SSL_get_tmp_key(ssl, &kex) : SSL_get_peer_tmp_key(ssl, &kex)) {
            int id = EVP_PKEY_get_id(kex);
            if (id == EVP_PKEY_DH) {
                summary_.kex_name = "DHE";
                summary_.kex_bits = EVP_PKEY_get_bits(kex);
            } else if (id == EVP_PKEY_EC) {
                summary_.kex_name = "ECDHE";
                summary_.kex_curve = curve_name(kex);
            } else if (id != NID_undef && OBJ_nid2sn(EVP_PKEY_type(id))) {
                summary_.kex_name = OBJ_nid2sn(EVP_PKEY_type(id));
            } else if (const char* n = EVP_PKEY_get0_type_name(kex)) {
                summary_.kex_name = n;
            }
            EVP_PKEY_free(kex);
        }
        // On a resumed session the keys are still named (no digest: there
        // was no signature), as the reference reports them.
        {
            int nid = NID_undef;
            EVP_PKEY* local = nullptr;
            if (server || SSL_get_signature_nid(ssl, &nid)) local = SSL_get_privatekey(ssl);
            std::string& lname = server ? summary_.srvr_sig_name : summary_.clnt_sig_name;
            std::string& lcurve = server ? summary_.srvr_sig_curve : summary_.clnt_sig_curve;
            std::string& ldgst = server ? summary_.srvr_sig_dgst : summary_.clnt_sig_dgst;
            int& lbits = server ? summary_.srvr_sig_bits : summary_.clnt_sig_bits;
            if (local) {
                key_signature(local, lname, lcurve, lbits);
                if (SSL_get_signature_nid(ssl, &nid) && nid != NID_undef && OBJ_nid2sn(nid)) ldgst = OBJ_nid2sn(nid);
            }
            std::string& pname = server ? summary_.clnt_sig_name : summary_.srvr_sig_name;
            std::string& pcurve = server ? summary_.clnt_sig_curve : summary_.srvr_sig_curve;
            std::string& pdgst = server ? summary_.clnt_sig_dgst : summary_.srvr_sig_dgst;
            int& pbits = server ? summary_.clnt_sig_bits : summary_.srvr_sig_bits;
            if (peer) {
                if (EVP_PKEY* pkey = X509_get0_pubkey(peer)) {
                    key_signature(pkey, pname, pcurve, pbits);
                    if (SSL_get_peer_signature_nid(ssl, &nid) && nid != NID_undef && OBJ_nid2sn(nid))
                        pdgst = OBJ_nid2sn(nid);
                }
            }
        }
    }
    if (peer) X509_free(peer);
}

void Session::client_match(const StartOptions& opts, unsigned mask) {
    const bool verbose = (mask & (kLogCertMatch | kLogVerbose | kLogPeerCert)) != 0;
    SSL* ssl = ssl_.get();
    if (opts.must_fail) {
        peer_.trusted = false;
        if ((mask & kLogUntrusted) && !reused_)
            util::msg_info("server certificate verification failed for {}: num={}:{}", namaddr_, X509_V_ERR_UNSPECIFIED,
                           X509_verify_cert_error_string(X509_V_ERR_UNSPECIFIED));
        return;
    }
    if (!opts.match_fingerprints.empty()) {
        // The fingerprint level: the certificate's or its public key's
        // digest must be listed; trust in the chain does not matter.
        std::string cert = digest_key(peer_.cert_fingerprint);
        std::string pkey = digest_key(peer_.pkey_fingerprint);
        for (const auto& want : opts.match_fingerprints) {
            std::string w = digest_key(want);
            if (w.empty() || (w != cert && w != pkey)) continue;
            peer_.trusted = peer_.verified = true;
            if (verbose) util::msg_info("{}: Matched fingerprint: {}", namaddr_, w);
            return;
        }
        peer_.trusted = false;
        if (mask & kLogUntrusted) {
            if (reused_)
                util::msg_info("{}: re-using session with untrusted certificate, look for details earlier in the log",
                               namaddr_);
            else
                util::msg_info("server certificate verification failed for {}: num={}:{}", namaddr_,
                               X509_V_ERR_DANE_NO_MATCH, X509_verify_cert_error_string(X509_V_ERR_DANE_NO_MATCH));
        }
        return;
    }
    // The names: OpenSSL checked them with the chain; a verified chain
    // means one of them matched.
    if (peer_.trusted) {
        peer_.verified = true;
        if (verbose) {
            if (const char* name = SSL_get0_peername(ssl)) util::msg_info("{}: matched peername: {}", namaddr_, name);
            STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl);
            if (opts.log_trust_anchor && chain && sk_X509_num(chain) > 0)
                util::msg_info("{}: Matched trust anchor at depth {}", namaddr_, sk_X509_num(chain) - 1);
        }
        return;
    }
    if (mask & kLogUntrusted) {
        if (reused_)
            util::msg_info("{}: re-using session with untrusted certificate, look for details earlier in the log",
                           namaddr_);
        else
            log_verify_error(false);
    }
}

void Session::log_verify_error(bool server) const {
    const VerifyFailure& f = last_verify_failure();
    long err = f.error != X509_V_OK ? f.error : peer_.verify_result;
    const char* purpose = f.depth > 0 ? "CA" : server ? "client" : "server";
    switch (err) {
    case X509_V_OK:
        return;
    case X509_V_ERR_CERT_UNTRUSTED:
        util::msg_info("certificate verification failed for {}: not trusted by local or TLSA policy", namaddr_);
        break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        util::msg_info("certificate verification failed for {}: self-signed certificate", namaddr_);
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        util::msg_info("certificate verification failed for {}: untrusted issuer {}", namaddr_,
                       f.issuer.empty() ? "<unknown>" : f.issuer);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
        util::msg_info("{} certificate verification failed for {}: certificate not yet valid", purpose, namaddr_);
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        util::msg_info("{} certificate verification failed for {}: certificate has expired", purpose, namaddr_);
        break;
    case X509_V_ERR_INVALID_PURPOSE:
        util::msg_info("certificate verification failed for {}: not designated for use as a {} certificate", namaddr_,
                       purpose);
        break;
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
        util::msg_info("certificate verification failed for {}: certificate chain longer than limit({})", namaddr_,
                       f.depth - 1);
        break;
    default:
        util::msg_info("{} certificate verification failed for {}: num={}:{}", purpose, namaddr_, err,
                       X509_verify_cert_error_string(err));
        break;
    }
}

std::string Session::summary_line(bool server) const {
    const char* kind = !peer_.cert_present ? "Anonymous" : peer_.verified ? "Verified" : peer_.trusted ? "Trusted" : "Untrusted";
    return fmt::format("{} TLS connection {} {} {}: {} with cipher {} ({}/{} bits){}", kind,
                       "established", server ? "from" : "to", namaddr_, summary_.protocol,
                       summary_.cipher, summary_.cipher_bits, summary_.cipher_alg_bits, signature_details(summary_));
}

std::expected<std::size_t, smtp::StreamError> Session::read(char* buf, std::size_t len, int timeout) {
    int rc = 0;
    SSL* ssl = ssl_.get();
    int want = static_cast<int>(std::min<std::size_t>(len, 1 << 30));
    IoStatus st = run_io(ssl, fd_, timeout, [ssl, buf, want] { return SSL_read(ssl, buf, want); }, rc);
    if (st == IoStatus::kDone) return static_cast<std::size_t>(rc);
    if (st == IoStatus::kTimeout) return std::unexpected(smtp::StreamError::kTimeout);
    ERR_clear_error();
    return std::unexpected(smtp::StreamError::kEof);
}

std::expected<void, smtp::StreamError> Session::write(const char* buf, std::size_t len, int timeout) {
    SSL* ssl = ssl_.get();
    std::size_t done = 0;
    while (done < len) {
        int rc = 0;
        const char* p = buf + done;
        int want = static_cast<int>(std::min<std::size_t>(len - done, 1 << 30));
        IoStatus st = run_io(ssl, fd_, timeout, [ssl, p, want] { return SSL_write(ssl, p, want); }, rc);
        if (st == IoStatus::kTimeout) return std::unexpected(smtp::StreamError::kTimeout);
        if (st != IoStatus::kDone) {
            ERR_clear_error();
            return std::unexpected(smtp::StreamError::kBroken);
        }
        done += static_cast<std::size_t>(rc);
    }
    return {};
}

bool Session::pending() const { return SSL_pending(ssl_.get()) > 0; }

void Session::shutdown(int timeout) {
    SSL* ssl = ssl_.get();
    int rc = 0;
    (void)run_io(ssl, fd_, timeout, [ssl] { return SSL_shutdown(ssl) >= 0 ? 1 : -1; }, rc);
    ERR_clear_error();
}

}  // namespace pf::tls
