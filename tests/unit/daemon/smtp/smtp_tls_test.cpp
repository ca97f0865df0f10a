// The smtp client's TLS steps (smtp_tls.cpp) against a fake TLS module:
// the boundary of smtp_tls_module.h lets a test stand in for smtp-tls.so
// (no OpenSSL, no handshake) and check what the client asks of the module
// (the session cache key, cipher exclusions, whether a trusted
// certificate is required, the certificate names to check) and what it
// decides from the answers: the deferral texts of the reference, the
// verified flag, the fingerprint level's mismatch line.
#include "daemon/smtp/smtp_tls.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::smtp_agent {
namespace {

struct Probe {
    tls::StartOptions opts;            // what the last connect() was asked
    std::vector<std::string> names;    // the names certificate_names() was asked (".x" for subdomains)
    int connects = 0;
};

class FakeSession final : public TlsClientSession {
public:
    FakeSession(Probe& probe, tls::PeerInfo peer, std::vector<std::string> names)
        : probe_(probe), peer_(std::move(peer)), cert_names_(std::move(names)) {}
    std::expected<std::size_t, smtp::StreamError> read(char*, std::size_t, int) override {
        return std::unexpected(smtp::StreamError::kEof);
    }
    std::expected<void, smtp::StreamError> write(const char*, std::size_t, int) override { return {}; }
    bool pending() const override { return false; }
    const tls::PeerInfo& peer() const override { return peer_; }
    tls::PeerInfo& peer() override { return peer_; }
    std::string summary_line() const override { return "Trusted TLS connection established to fake"; }
    bool certificate_names(std::string_view host, bool subdomains) const override {
        probe_.names.push_back((subdomains ? "." : "") + std::string(host));
        for (const auto& n : cert_names_)
            if (n == host) return true;
        return false;
    }

private:
    Probe& probe_;
    tls::PeerInfo peer_;
    std::vector<std::string> cert_names_;
};

class FakeContext final : public TlsClientContext {
public:
    FakeContext(Probe& probe, bool handshake_ok, tls::PeerInfo peer, std::vector<std::string> names)
        : probe_(probe), ok_(handshake_ok), peer_(std::move(peer)), names_(std::move(names)) {}
    unsigned log_mask() const override { return 0; }
    std::unique_ptr<TlsClientSession> connect(int, const tls::StartOptions& opts) const override {
        probe_.opts = opts;
        ++probe_.connects;
        if (!ok_) return nullptr;
        return std::make_unique<FakeSession>(probe_, peer_, names_);
    }

private:
    Probe& probe_;
    bool ok_;
    tls::PeerInfo peer_;
    std::vector<std::string> names_;
};

tls::PeerInfo trusted_peer() {
    tls::PeerInfo p;
    p.cert_present = true;
    p.trusted = true;
    p.cert_fingerprint = "AB:CD:EF";
    p.pkey_fingerprint = "12:34:56";
    return p;
}

struct Fixture {
    Probe probe;
    SmtpTlsSettings settings;
    smtp::SmtpStream stream{-1};
    std::unique_ptr<TlsClientSession> session;

    Fixture(bool handshake_ok, tls::PeerInfo peer, std::vector<std::string> names) {
        settings.service = "smtp";
        auto ctx = std::make_shared<FakeContext>(probe, handshake_ok, std::move(peer), std::move(names));
        settings.opportunistic = ctx;
        settings.mandatory = ctx;
        settings.dane_no_match = "num=65:No matching DANE TLSA records";
    }
    TlsOutcome wrapper(tls::Level level, std::vector<std::string> matches = {}) {
        TlsPolicy policy;
        policy.level = level;
        policy.matches = std::move(matches);
        policy.nexthop = "example.com";
        return smtp_tls_wrapper(settings, policy, stream, session, "mx.example.com", "mx.example.com[192.0.2.1]:465",
                                "example.com");
    }
};

TEST(SmtpTlsModule, WithoutContextsTheEngineIsUnavailable) {
    SmtpTlsSettings settings;
    smtp::SmtpStream stream(-1);
    std::unique_ptr<TlsClientSession> session;
    TlsPolicy policy;
    policy.level = tls::Level::kEncrypt;
    auto out = smtp_tls_wrapper(settings, policy, stream, session, "h", "h[192.0.2.1]:465", "h");
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(out.status, "4.7.5");
    EXPECT_EQ(out.reason, "TLS is required, but our TLS engine is unavailable");
    EXPECT_EQ(session, nullptr);
}

TEST(SmtpTlsModule, FailedHandshake) {
    Fixture f(false, trusted_peer(), {});
    auto out = f.wrapper(tls::Level::kEncrypt);
    EXPECT_FALSE(out.ok);
    EXPECT_TRUE(out.handshake_failed);
    EXPECT_EQ(out.reason, "Cannot start TLS: handshake failure");
    EXPECT_EQ(f.session, nullptr);
}

TEST(SmtpTlsModule, EncryptAsksForTheCacheKeyAndExcludesNullCiphers) {
    Fixture f(true, trusted_peer(), {});
    f.settings.exclude_ciphers = "RC4";
    auto out = f.wrapper(tls::Level::kEncrypt);
    EXPECT_TRUE(out.ok);
    ASSERT_NE(f.session, nullptr);
    EXPECT_EQ(f.probe.opts.serverid, "smtp&example.com&mx.example.com&192.0.2.1&");
    EXPECT_EQ(f.probe.opts.cipher_exclusions, "RC4 eNULL");
    EXPECT_FALSE(f.probe.opts.require_cert);
    EXPECT_EQ(f.probe.opts.namaddr, "mx.example.com[192.0.2.1]:465");
    EXPECT_TRUE(f.probe.names.empty());   // encrypt checks no name
    EXPECT_FALSE(f.session->peer().verified);
}

TEST(SmtpTlsModule, VerifyMatchesTheNamesOfThePolicy) {
    Fixture f(true, trusted_peer(), {"example.com"});
    auto out = f.wrapper(tls::Level::kVerify, {"hostname", "nexthop"});
    EXPECT_TRUE(out.ok) << out.reason;
    EXPECT_TRUE(f.probe.opts.require_cert);
    EXPECT_NE(f.probe.opts.cipher_exclusions.find("aNULL"), std::string::npos);
    EXPECT_EQ(f.probe.names, (std::vector<std::string>{"mx.example.com", "example.com"}));
    ASSERT_NE(f.session, nullptr);
    EXPECT_TRUE(f.session->peer().verified);
}

TEST(SmtpTlsModule, SecureDotNexthopAsksForSubdomains) {
    Fixture f(true, trusted_peer(), {});
    f.settings.secure_cert_match = "nexthop, dot-nexthop";
    auto out = f.wrapper(tls::Level::kSecure);
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(out.status, "4.7.5");
    EXPECT_EQ(out.reason, "Server certificate not verified");
    EXPECT_EQ(f.probe.names, (std::vector<std::string>{"example.com", ".example.com"}));
}

TEST(SmtpTlsModule, VerifyNeedsATrustedChain) {
    tls::PeerInfo untrusted = trusted_peer();
    untrusted.trusted = false;
    Fixture f(true, untrusted, {"mx.example.com"});
    auto out = f.wrapper(tls::Level::kVerify, {"hostname"});
    EXPECT_EQ(out.reason, "Server certificate not verified");
    EXPECT_TRUE(f.probe.names.empty());
}

TEST(SmtpTlsModule, FingerprintMismatchLogsTheDaneError) {
    std::vector<std::string> lines;
    util::msg_set_sink([&](util::MsgLevel, std::string_view text) { lines.emplace_back(text); });
    Fixture f(true, trusted_peer(), {});
    auto out = f.wrapper(tls::Level::kFingerprint, {"00:11"});
    util::msg_set_sink(nullptr);
    EXPECT_EQ(out.reason, "Server certificate not verified");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "server certificate verification failed for mx.example.com[192.0.2.1]:465: "
                        "num=65:No matching DANE TLSA records");
}

TEST(SmtpTlsModule, FingerprintMatchesThePublicKeyDigest) {
    Fixture f(true, trusted_peer(), {});
    auto out = f.wrapper(tls::Level::kFingerprint, {"00:11", "123456"});
    EXPECT_TRUE(out.ok) << out.reason;
    ASSERT_NE(f.session, nullptr);
    EXPECT_TRUE(f.session->peer().verified);
}

}  // namespace
}  // namespace pf::smtp_agent
