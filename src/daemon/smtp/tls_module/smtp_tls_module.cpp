// smtp-tls.so, the TLS module of smtp(8)/lmtp(8) (see ../smtp_tls_module.h):
// builds the two client contexts from the smtp_tls_* (lmtp_tls_*)
// parameters with the reference's warnings, wraps tls::Session as the
// TlsClientSession the session code uses, and checks certificate names
// with OpenSSL (X509_check_host) for the verify and secure levels. Built as
// a loadable module with src/tls; everything else it calls (logging,
// configuration, IPC, tables) is resolved from the smtp program that loads
// it.
//
// Trust: settings are configuration; the handshake is with a hostile
// server (tls/tls_session.h); certificate names are matched by OpenSSL.
#include "daemon/smtp/smtp_tls_module.h"

#include "config/config.h"
#include "tls/tls_context.h"
#include "tls/tls_session.h"

#include <fmt/core.h>
#include <openssl/x509v3.h>

#include <type_traits>

namespace pf::smtp_agent {

namespace {

class OpenSslClientSession final : public TlsClientSession {
public:
    explicit OpenSslClientSession(std::unique_ptr<tls::Session> session) : session_(std::move(session)) {}

    std::expected<std::size_t, smtp::StreamError> read(char* buf, std::size_t len, int timeout) override {
        return session_->read(buf, len, timeout);
    }
    std::expected<void, smtp::StreamError> write(const char* buf, std::size_t len, int timeout) override {
        return session_->write(buf, len, timeout);
    }
    bool pending() const override { return session_->pending(); }
    const tls::PeerInfo& peer() const override { return session_->peer(); }
    tls::PeerInfo& peer() override { return session_->peer(); }
    std::string summary_line() const override { return session_->summary_line(false); }
    bool certificate_names(std::string_view host, bool subdomains) const override {
        X509* cert = SSL_get0_peer_certificate(session_->ssl());
        if (!cert || host.empty()) return false;
        unsigned flags = subdomains ? X509_CHECK_FLAG_SINGLE_LABEL_SUBDOMAINS : 0;
        return X509_check_host(cert, host.data(), host.size(), flags, nullptr) == 1;
    }

private:
    std::unique_ptr<tls::Session> session_;
};

class OpenSslClientContext final : public TlsClientContext {
public:
    explicit OpenSslClientContext(std::unique_ptr<tls::Context> context) : context_(std::move(context)) {}

    unsigned log_mask() const override { return context_->log_mask(); }
    std::unique_ptr<TlsClientSession> connect(int fd, const tls::StartOptions& opts) const override {
        auto session = tls::Session::connect(*context_, fd, opts);
        if (!session) return nullptr;
        return std::make_unique<OpenSslClientSession>(std::move(session));
    }

private:
    std::unique_ptr<tls::Context> context_;
};

std::shared_ptr<TlsClientContext> client_context(const tls::ContextSettings& cs) {
    auto context = tls::make_context(cs);
    if (!context) return nullptr;
    return std::make_shared<OpenSslClientContext>(std::move(context));
}

}  // namespace

}  // namespace pf::smtp_agent

// The entry point smtp looks up (kTlsModuleInit); C linkage for a plain
// symbol name, C++ types as smtp and this module are built together.
extern "C" [[gnu::visibility("default")]] void pf_smtp_tls_init(const pf::config::Config& config,
                                                                 const std::string& prefix,
                                                                 pf::smtp_agent::TlsClientContexts& out) {
    using namespace pf;
    // As before the module existed: the opportunistic context first, then
    // the mandatory one (each with its own warnings).
    tls::ContextSettings cs = tls::settings_from_config(config, tls::Role::kClient, prefix);
    out.opportunistic = smtp_agent::client_context(cs);
    cs.protocols = config.get(prefix + "_tls_mandatory_protocols");
    out.mandatory = smtp_agent::client_context(cs);
    out.dane_no_match =
        fmt::format("num={}:{}", X509_V_ERR_DANE_NO_MATCH, X509_verify_cert_error_string(X509_V_ERR_DANE_NO_MATCH));
}

// The type smtp expects of the entry point.
static_assert(std::is_same_v<decltype(pf_smtp_tls_init), pf::smtp_agent::TlsModuleInit>);
