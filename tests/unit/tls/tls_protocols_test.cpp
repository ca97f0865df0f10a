// Unit tests of tls/tls_protocols, tls/tls_level and tls/tls_log: the
// protocol list syntaxes (exclusions, inclusions, bounds, hex versions,
// case-sensitive names), level names and log level words; plus a
// handshake over a socket pair through SmtpStream with a throw-away
// certificate, checking the summary facts and the stream transport.
#include "tls/tls_context.h"
#include "tls/tls_level.h"
#include "tls/tls_log.h"
#include "tls/tls_protocols.h"
#include "tls/tls_session.h"

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

TEST(TlsProtocols, DefaultBounds) {
    auto p = parse_protocols(">=TLSv1");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->floor, 0x0301);
    EXPECT_EQ(p->ceiling, 0);
    EXPECT_EQ(p->exclude, 0u);
}

TEST(TlsProtocols, Exclusions) {
    auto p = parse_protocols("!SSLv2, !SSLv3");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->exclude, unsigned(kSslV2 | kSslV3));
    auto q = parse_protocols("!SSLv2:!SSLv3 !TLSv1 !TLSv1.1");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->exclude, unsigned(kSslV2 | kSslV3 | kTlsV1 | kTlsV1_1));
}

TEST(TlsProtocols, InclusionListExcludesTheRest) {
    auto p = parse_protocols("TLSv1.2, TLSv1.3");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->exclude, unsigned(kSslV2 | kSslV3 | kTlsV1 | kTlsV1_1));
}

TEST(TlsProtocols, BoundsAndHex) {
    auto p = parse_protocols(">=TLSv1.2 <=TLSv1.3");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->floor, 0x0303);
    EXPECT_EQ(p->ceiling, 0x0304);
    auto q = parse_protocols(">=0x0303, <=None");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->floor, 0x0303);
    EXPECT_EQ(q->ceiling, 0);
}

TEST(TlsProtocols, Invalid) {
    EXPECT_FALSE(parse_protocols("tlsv1.2"));     // names are case-sensitive
    EXPECT_FALSE(parse_protocols("!TLSv9"));
    EXPECT_FALSE(parse_protocols(">=bogus"));
    EXPECT_FALSE(parse_protocols(">=SSLv2"));     // not a bound
    EXPECT_TRUE(parse_protocols(""));             // empty: library defaults
}

TEST(TlsLevel, Names) {
    EXPECT_EQ(level_lookup("may"), Level::kMay);
    EXPECT_EQ(level_lookup("ENCRYPT"), Level::kEncrypt);
    EXPECT_EQ(level_lookup("dane-only"), Level::kDaneOnly);
    EXPECT_FALSE(level_lookup("maybe"));
    EXPECT_STREQ(level_name(Level::kSecure), "secure");
}

TEST(TlsLog, Levels) {
    EXPECT_EQ(log_mask("x", "0"), unsigned(kLogNone));
    EXPECT_EQ(log_mask("x", "1"), unsigned(kLogSummary));
    EXPECT_TRUE(log_mask("x", "2") & kLogVerbose);
    EXPECT_EQ(log_mask("x", "summary, untrusted"), unsigned(kLogSummary | kLogUntrusted));
}

TEST(TlsLog, SignatureDetails) {
    HandshakeSummary s;
    EXPECT_EQ(signature_details(s), "");
    s.kex_name = "X25519";
    s.srvr_sig_name = "RSA-PSS";
    s.srvr_sig_bits = 2048;
    s.srvr_sig_dgst = "SHA256";
    EXPECT_EQ(signature_details(s), " key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256");
    s.clnt_sig_name = "ECDSA";
    s.clnt_sig_curve = "prime256v1";
    EXPECT_EQ(signature_details(s), " key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"
                                    " client-signature ECDSA (prime256v1)");
}

// A self-signed EC certificate and key written to files for the test.
struct TempCert {
    std::string cert = "/tmp/pf-tls-unit-cert.pem";
    std::string key = "/tmp/pf-tls-unit-key.pem";
    TempCert() {
        EVP_PKEY* pkey = EVP_EC_gen("P-256");
        X509* x = X509_new();
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, pkey);
        X509_NAME* name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("unit.example"), -1,
                                   -1, 0);
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
    ~TempCert() {
        ::unlink(cert.c_str());
        ::unlink(key.c_str());
    }
};

ContextSettings base_settings(Role role) {
    ContextSettings s;
    s.role = role;
    s.protocols = ">=TLSv1";
    s.cipher_grade = "medium";
    s.fingerprint_digest = "sha256";
    s.medium_cipherlist = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH";
    s.high_cipherlist = "aNULL:-aNULL:HIGH:@STRENGTH";
    s.null_cipherlist = "eNULL:!aNULL";
    s.eecdh_auto_curves = "X25519 X448 prime256v1 secp521r1 secp384r1";
    return s;
}

TEST(TlsSession, HandshakeAndStream) {
    TempCert cert;
    ContextSettings ss = base_settings(Role::kServer);
    ss.eccert_file = cert.cert;
    ss.eckey_file = cert.key;
    auto server_ctx = make_context(ss);
    ASSERT_TRUE(server_ctx);
    auto client_ctx = make_context(base_settings(Role::kClient));
    ASSERT_TRUE(client_ctx);
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(sv[0]);
        StartOptions o;
        o.timeout = 10;
        o.namaddr = "server[test]";
        o.cipher_grade = "medium";
        auto s = Session::accept(*server_ctx, sv[1], o);
        if (!s) ::_exit(2);
        smtp::SmtpStream stream(sv[1], 10);
        stream.set_transport(s.get());
        auto line = stream.read_line(100, true);
        if (!line || line->text != "EHLO x") ::_exit(3);
        stream.write("250 ok\r\n");
        if (!stream.flush()) ::_exit(4);
        s->shutdown(2);
        ::_exit(0);
    }
    ::close(sv[1]);
    StartOptions o;
    o.timeout = 10;
    o.namaddr = "client[test]";
    o.cipher_grade = "medium";
    auto c = Session::connect(*client_ctx, sv[0], o);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->summary().protocol, "TLSv1.3");
    EXPECT_EQ(c->summary().srvr_sig_name, "ECDSA");
    EXPECT_EQ(c->summary().srvr_sig_curve, "prime256v1");
    EXPECT_TRUE(c->peer().cert_present);
    EXPECT_FALSE(c->peer().trusted);
    EXPECT_EQ(c->peer().peer_CN, "unit.example");
    EXPECT_EQ(c->peer().cert_fingerprint.size(), 32u * 3 - 1);
    EXPECT_TRUE(c->summary_line(false).starts_with("Untrusted TLS connection established to client[test]: TLSv1.3"));
    smtp::SmtpStream stream(sv[0], 10);
    stream.set_transport(c.get());
    stream.write("EHLO x\r\n");
    ASSERT_TRUE(stream.flush());
    auto reply = stream.read_line(100, true);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->text, "250 ok");
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    ::close(sv[0]);
}

TEST(TlsContext, MissingKeyDisablesTls) {
    TempCert cert;
    ContextSettings ss = base_settings(Role::kServer);
    ss.cert_file = cert.cert;
    ss.key_file = "/nonexistent/key.pem";
    EXPECT_FALSE(make_context(ss));
    ss.key_file = cert.key;
    ss.protocols = "TLSv9";
    EXPECT_FALSE(make_context(ss));
}

TEST(TlsContext, CipherList) {
    auto ctx = make_context(base_settings(Role::kClient));
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->cipher_list("medium", "aNULL, RC4", "x"), "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!aNULL:!RC4");
    EXPECT_EQ(ctx->cipher_list("bogus", "", "x"), "");
    EXPECT_EQ(ctx->cipher_list("high", "!x", "x"), "");
}

}  // namespace
}  // namespace pf::tls
