// Unit tests of the client-side certificate matching of tls/tls_session
// (StartOptions::match_names and match_fingerprints: OpenSSL's host
// checks with the chain, the fingerprint level's digest list, the
// "verified" and "trusted" facts that follow), of the in-memory session
// cache of tls/tls_mgr_client (posttls-finger's), and of a log level
// with an unknown word (the whole value counts as 0, as the reference's).
#include "tls/tls_context.h"
#include "tls/tls_log.h"
#include "tls/tls_mgr_client.h"
#include "tls/tls_session.h"
#include "util/msg.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace pf::tls {
namespace {

// A self-signed EC certificate for "match.example" in files of this process.
struct SelfSigned {
    std::string cert = "/tmp/pf-tls-match-" + std::to_string(::getpid()) + "-cert.pem";
    std::string key = "/tmp/pf-tls-match-" + std::to_string(::getpid()) + "-key.pem";
    SelfSigned() {
        EVP_PKEY* pkey = EVP_EC_gen("P-256");
        X509* x = X509_new();
        ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, pkey);
        X509_NAME* name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("match.example"),
                                   -1, -1, 0);
        X509_set_issuer_name(x, name);
        X509_sign(x, pkey, EVP_sha256());
        FILE* f = std::fopen(cert.c_str(), "w");
        PEM_write_X509(f, x);
        std::fclose(f);
        f = std::fopen(key.c_str(), "w");
        PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(f);
        X509_free(x);
        EVP_PKEY_free(pkey);
    }
    ~SelfSigned() {
        ::unlink(cert.c_str());
        ::unlink(key.c_str());
    }
};

ContextSettings settings(Role role) {
    ContextSettings s;
    s.role = role;
    s.protocols = ">=TLSv1";
    s.cipher_grade = "medium";
    s.fingerprint_digest = "sha256";
    s.medium_cipherlist = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH";
    s.high_cipherlist = "aNULL:-aNULL:HIGH:@STRENGTH";
    s.null_cipherlist = "eNULL:!aNULL";
    s.eecdh_auto_curves = "X25519 prime256v1";
    return s;
}

// One handshake against a forked server with the certificate; the client
// session's peer facts (cert_present false when the handshake failed).
PeerInfo handshake(const SelfSigned& c, const std::string& CAfile, const StartOptions& client_opts) {
    ContextSettings ss = settings(Role::kServer);
    ss.eccert_file = c.cert;
    ss.eckey_file = c.key;
    auto server_ctx = make_context(ss);
    ContextSettings cs = settings(Role::kClient);
    cs.CAfile = CAfile;
    auto client_ctx = make_context(cs);
    if (!server_ctx || !client_ctx) return {};
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return {};
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(sv[0]);
        StartOptions o;
        o.timeout = 10;
        o.namaddr = "server[test]";
        o.cipher_grade = "medium";
        auto s = Session::accept(*server_ctx, sv[1], o);
        if (s) s->shutdown(2);
        ::_exit(s ? 0 : 2);
    }
    ::close(sv[1]);
    StartOptions o = client_opts;
    o.timeout = 10;
    o.namaddr = "client[test]";
    o.cipher_grade = "medium";
    auto session = Session::connect(*client_ctx, sv[0], o);
    PeerInfo p = session ? session->peer() : PeerInfo{};
    session.reset();
    ::close(sv[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return p;
}

std::string fingerprint_of(const std::string& file) {
    FILE* f = std::fopen(file.c_str(), "r");
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    std::string fp = cert_fingerprint(x, "sha256");
    X509_free(x);
    return fp;
}

TEST(TlsClientMatch, FingerprintListed) {
    util::msg_set_quiet(true);
    SelfSigned c;
    StartOptions o;
    std::string fp = fingerprint_of(c.cert);
    std::string bare;
    for (char ch : fp)
        if (ch != ':') bare += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    o.match_fingerprints = {"00:11", bare};
    PeerInfo p = handshake(c, "", o);
    EXPECT_TRUE(p.cert_present);
    EXPECT_TRUE(p.verified);
    EXPECT_TRUE(p.trusted);
    util::msg_set_quiet(false);
}

TEST(TlsClientMatch, FingerprintNotListed) {
    util::msg_set_quiet(true);
    SelfSigned c;
    StartOptions o;
    o.match_fingerprints = {"00:11:22:33"};
    PeerInfo p = handshake(c, "", o);
    EXPECT_TRUE(p.cert_present);
    EXPECT_FALSE(p.verified);
    EXPECT_FALSE(p.trusted);
    util::msg_set_quiet(false);
}

TEST(TlsClientMatch, NamesNeedATrustedChain) {
    util::msg_set_quiet(true);
    SelfSigned c;
    StartOptions o;
    o.match_names = {"match.example"};
    PeerInfo untrusted = handshake(c, "", o);
    EXPECT_TRUE(untrusted.cert_present);
    EXPECT_FALSE(untrusted.verified);
    PeerInfo trusted = handshake(c, c.cert, o);
    EXPECT_TRUE(trusted.trusted);
    EXPECT_TRUE(trusted.verified);
    o.match_names = {"other.example", ".example"};
    PeerInfo sub = handshake(c, c.cert, o);
    EXPECT_TRUE(sub.verified);
    o.match_names = {"other.example"};
    PeerInfo wrong = handshake(c, c.cert, o);
    EXPECT_FALSE(wrong.trusted);
    EXPECT_FALSE(wrong.verified);
    EXPECT_EQ(wrong.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
    util::msg_set_quiet(false);
}

TEST(TlsMemoryCache, CountsAndHits) {
    mgr_use_memory_cache(true);
    bool cachable = false;
    int timeout = 0;
    EXPECT_EQ(mgr_policy("memory", cachable, timeout), kMgrOk);
    EXPECT_TRUE(cachable);
    EXPECT_GT(timeout, 0);
    std::string data;
    EXPECT_EQ(mgr_lookup("memory", "k1", data), kMgrErr);
    EXPECT_EQ(mgr_update("memory", "k1", "session-bytes"), kMgrOk);
    EXPECT_EQ(mgr_lookup("memory", "k1", data), kMgrOk);
    EXPECT_EQ(data, "session-bytes");
    MemoryCacheStatus st = mgr_memory_cache_status();
    EXPECT_TRUE(st.enabled);
    EXPECT_EQ(st.count, 1);
    EXPECT_EQ(st.hits, 1);
    EXPECT_EQ(mgr_delete("memory", "k1"), kMgrOk);
    EXPECT_EQ(mgr_memory_cache_status().count, 0);
    mgr_use_memory_cache(false);
    EXPECT_EQ(mgr_policy("memory", cachable, timeout), kMgrOk);
    EXPECT_FALSE(cachable);
    EXPECT_EQ(mgr_update("memory", "k2", "x"), kMgrErr);
    mgr_set_endpoint("private/tlsmgr");   // back to tlsmgr for the other tests
}

TEST(TlsLog, UnknownWordMakesTheMaskZero) {
    util::msg_set_quiet(true);
    EXPECT_EQ(log_mask("-L option", "routine,bogus"), 0u);
    EXPECT_EQ(log_mask("-L option", "routine,certmatch"), unsigned(kLogSummary | kLogCertMatch));
    util::msg_set_quiet(false);
}

}  // namespace
}  // namespace pf::tls
