// smtpd-tls.so, smtpd's TLS module (see ../smtpd_tls_module.h): builds the
// server context from the smtpd_tls_* parameters with the reference's
// warnings ("Need a server cert to request client certs", "No server certs
// available. TLS won't be enabled", ...), and wraps tls::Session as the
// TlsConnection the session code uses. Built as a loadable module with
// src/tls; everything else it calls (logging, configuration, IPC) is
// resolved from the smtpd program that loads it.
//
// Trust: settings are configuration; the handshake is with a hostile peer
// (tls/tls_session.h).
#include "daemon/smtpd/smtpd_tls.h"
#include "daemon/smtpd/smtpd_tls_module.h"

#include "config/config.h"
#include "tls/tls_context.h"
#include "tls/tls_session.h"
#include "util/msg.h"

namespace pf::smtpd {

namespace {

void add_exclusion(std::string& list, const std::string& more) {
    if (more.empty()) return;
    if (!list.empty()) list += ' ';
    list += more;
}

class OpenSslConnection final : public TlsConnection {
public:
    explicit OpenSslConnection(std::unique_ptr<tls::Session> session) : session_(std::move(session)) {}

    std::expected<std::size_t, smtp::StreamError> read(char* buf, std::size_t len, int timeout) override {
        return session_->read(buf, len, timeout);
    }
    std::expected<void, smtp::StreamError> write(const char* buf, std::size_t len, int timeout) override {
        return session_->write(buf, len, timeout);
    }
    bool pending() const override { return session_->pending(); }
    const tls::HandshakeSummary& summary() const override { return session_->summary(); }
    const tls::PeerInfo& peer() const override { return session_->peer(); }
    bool reused() const override { return session_->reused(); }
    std::string summary_line() const override { return session_->summary_line(true); }
    void shutdown(int timeout) override { session_->shutdown(timeout); }

private:
    std::unique_ptr<tls::Session> session_;
};

class OpenSslServer final : public TlsServer {
public:
    explicit OpenSslServer(std::unique_ptr<tls::Context> context) : context_(std::move(context)) {}

    unsigned log_mask() const override { return context_->log_mask(); }
    std::unique_ptr<TlsConnection> accept(int fd, const tls::StartOptions& opts) const override {
        auto session = tls::Session::accept(*context_, fd, opts);
        if (!session) return nullptr;
        return std::make_unique<OpenSslConnection>(std::move(session));
    }

private:
    std::unique_ptr<tls::Context> context_;
};

}  // namespace

}  // namespace pf::smtpd

// The entry point smtpd looks up (kTlsModuleInit); C linkage for a plain
// symbol name, C++ types as smtpd and this module are built together.
extern "C" [[gnu::visibility("default")]] void pf_smtpd_tls_init(const pf::config::Config& config,
                                                                  pf::smtpd::TlsSettings& t) {
    using namespace pf;
    tls::ContextSettings cs = tls::settings_from_config(config, tls::Role::kServer, "smtpd");
    const bool ask = t.ask_ccert || (t.enforce_tls && t.req_ccert);
    cs.ask_ccert = ask;
    if (t.enforce_tls) cs.protocols = config.get("smtpd_tls_mandatory_protocols");
    t.cipher_grade = t.enforce_tls ? config.get("smtpd_tls_mandatory_ciphers") : cs.cipher_grade;
    smtpd::add_exclusion(t.cipher_exclusions, config.get("smtpd_tls_exclude_ciphers"));
    if (t.enforce_tls) smtpd::add_exclusion(t.cipher_exclusions, config.get("smtpd_tls_mandatory_exclude_ciphers"));
    if (ask) smtpd::add_exclusion(t.cipher_exclusions, "aNULL");

    bool have_cert = !cs.cert_file.empty() || !cs.eccert_file.empty() || !cs.dcert_file.empty();
    if (!cs.chain_files.empty()) {
        if (!have_cert) have_cert = true;
        else
            util::msg_warn("Both smtpd_tls_chain_files and one or more of the legacy  smtpd_tls_cert_file, "
                           "smtpd_tls_eccert_file or smtpd_tls_dcert_file are non-empty; the legacy  parameters "
                           "will be ignored");
    }
    if (!have_cert && ask) util::msg_warn("Need a server cert to request client certs");
    if (!t.enforce_tls && t.req_ccert) util::msg_warn("Can't require client certs unless TLS is required");
    if (have_cert || (cs.no_server_cert_ok && !ask)) {
        if (auto context = tls::make_context(cs)) t.context = std::make_shared<smtpd::OpenSslServer>(std::move(context));
    } else {
        util::msg_warn("No server certs available. TLS won't be enabled");
    }
}

// The type smtpd expects of the entry point.
static_assert(std::is_same_v<decltype(pf_smtpd_tls_init), pf::smtpd::TlsModuleInit>);
