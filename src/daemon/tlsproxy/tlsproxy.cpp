// tlsproxy(8), server role: takes over a remote SMTP client's connection
// from postscreen(8) after STARTTLS, does the TLS handshake with the
// client using the tlsproxy_tls_* parameters (which default to the
// smtpd_tls_* ones), and relays plaintext between the client and the
// requester over the request connection, as the reference's tlsproxy
// does. Its log lines are the reference's: "CONNECT from [addr]:port",
// the TLS library's handshake lines ("Anonymous TLS connection
// established from [addr]:port: ..." at tlsproxy_tls_loglevel 1, the
// SSL_accept error lines), "TLS handshake failed for service=smtpd
// peer=[addr]:port" and "DISCONNECT [addr]:port"; at start-up "TLS server
// role is disabled with ..." when tlsproxy_tls_security_level (or the
// legacy tlsproxy_use_tls) offers no TLS, and the certificate warnings.
//
// The reference serves many connections per process from one event loop;
// this one serves one connection at a time (a single-server, as smtpd)
// and master runs as many processes as there are sessions (tlsproxy's
// master.cf process limit is 0, unlimited). What a client or the log
// sees is the same. The request protocol is ours: tlsproxy_protocol.h.
// The client role (smtp_tls_connection_reuse) is not served: such a
// request is answered "status=0" after a warning.
//
// Trust: the requester is a local mail-system process, its attributes are
// still checked; the remote peer is hostile (OpenSSL parses its bytes);
// plaintext is relayed, never interpreted.
#include "config/config.h"
#include "config/mail_params.h"
#include "ipc/tlsproxy_protocol.h"
#include "ipc/attr.h"
#include "ipc/fd_passing.h"
#include "ipc/mail_server.h"
#include "tls/tls_context.h"
#include "tls/tls_level.h"
#include "tls/tls_session.h"
#include "util/msg.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>

namespace {

using namespace pf;

struct ServerTls {
    bool enforce = false;
    bool req_ccert = false;
    std::string cipher_grade;
    std::string cipher_exclusions;
    std::unique_ptr<tls::Context> context;  // nullptr: TLS unavailable
};

ServerTls g_tls;

bool get_bool(const config::Config& config, const char* name) { return config::get_bool_param(config, name); }

void add_exclusion(std::string& list, const std::string& more) {
    if (more.empty()) return;
    if (!list.empty()) list += ' ';
    list += more;
}

// The server context as the reference's tlsproxy builds it before the
// chroot, with its warnings and in their order.
void init_server(const config::Config& config) {
    auto wanted = tls::server_tls_from_level("tlsproxy_tls_security_level", config.get("tlsproxy_tls_security_level"),
                                          {get_bool(config, "tlsproxy_use_tls"), get_bool(config, "tlsproxy_enforce_tls")});
    bool use = wanted.use;
    const bool enforce = wanted.enforce;
    use = use || enforce;
    if (!use) {
        util::msg_warn("TLS server role is disabled with tlsproxy_tls_security_level or tlsproxy_use_tls");
        return;
    }
    g_tls.enforce = enforce;
    g_tls.req_ccert = get_bool(config, "tlsproxy_tls_req_ccert");
    const bool ask = get_bool(config, "tlsproxy_tls_ask_ccert") || (enforce && g_tls.req_ccert);

    tls::ContextSettings cs = tls::settings_from_config(config, tls::Role::kServer, "tlsproxy");
    // The sessions belong to smtpd's cache, as the reference's.
    cs.cache_type = "smtpd";
    cs.ask_ccert = ask;
    if (enforce) cs.protocols = config.get("tlsproxy_tls_mandatory_protocols");
    g_tls.cipher_grade = enforce ? config.get("tlsproxy_tls_mandatory_ciphers") : cs.cipher_grade;
    add_exclusion(g_tls.cipher_exclusions, config.get("tlsproxy_tls_exclude_ciphers"));
    if (enforce) add_exclusion(g_tls.cipher_exclusions, config.get("tlsproxy_tls_mandatory_exclude_ciphers"));
    if (ask) add_exclusion(g_tls.cipher_exclusions, "aNULL");

    bool have_cert = !cs.cert_file.empty() || !cs.eccert_file.empty() || !cs.dcert_file.empty();
    if (!cs.chain_files.empty()) {
        if (!have_cert) have_cert = true;
        else
            util::msg_warn("Both tlsproxy_tls_chain_files and one or more of the legacy  tlsproxy_tls_cert_file, "
                           "tlsproxy_tls_eccert_file or tlsproxy_tls_dcert_file are non-empty; the legacy  "
                           "parameters will be ignored");
    }
    if (!have_cert && ask) util::msg_warn("Need a server cert to request client certs");
    if (!enforce && g_tls.req_ccert) util::msg_warn("Can't require client certs unless TLS is required");
    if (have_cert || (cs.no_server_cert_ok && !ask)) g_tls.context = tls::make_context(cs);
    else util::msg_warn("No server certs available. TLS can't be enabled");
}

// Waits until the requester closes its end (after "status=0").
void wait_for_close(int fd) {
    pollfd p{fd, POLLIN, 0};
    char buf[256];
    while (::poll(&p, 1, tlsproxy::kInitTimeout * 1000) > 0) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return;
    }
}

bool write_all(int fd, const char* data, std::size_t len, int timeout) {
    while (len > 0) {
        ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            len -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN) return false;
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, timeout * 1000) <= 0) return false;
    }
    return true;
}

// Plaintext between the requester (plain_fd) and the TLS session until
// either side closes or nothing moves for timeout seconds.
void relay(int plain_fd, int cipher_fd, tls::Session& session, int timeout) {
    char buf[16384];
    for (;;) {
        // Decoded bytes already inside OpenSSL go first: poll would not see them.
        if (!session.pending()) {
            pollfd p[2] = {{plain_fd, POLLIN, 0}, {cipher_fd, POLLIN, 0}};
            int rc = ::poll(p, 2, timeout * 1000);
            if (rc < 0 && errno == EINTR) continue;
            if (rc <= 0) return;
            if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = ::recv(plain_fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                if (n <= 0) return;
                if (!session.write(buf, static_cast<std::size_t>(n), timeout)) return;
                continue;
            }
            if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        }
        auto got = session.read(buf, sizeof buf, timeout);
        if (!got) return;
        if (!write_all(plain_fd, buf, *got, timeout)) return;
    }
}

// One request: the attributes, the status, the peer's descriptor, the
// handshake and the relay.
void serve(int plain_fd) {
    std::string buffer;
    auto request = ipc::receive_attrs(plain_fd, buffer, tlsproxy::kInitTimeout);
    if (!request) {
        util::msg_warn("receive request attributes: {}", ipc::attr_error_text(request.error()));
        return;
    }
    auto req = tlsproxy::decode_request(*request);
    if (!req) {
        util::msg_warn("receive request attributes: malformed request");
        return;
    }
    const std::string& endpt = req->endpoint;
    const std::string& service = req->server_id;
    const long flags = req->flags;
    const char* direction = (flags & tlsproxy::kRoleServer) ? "from"
                            : (flags & tlsproxy::kRoleClient) ? "to"
                                                                : "(bogus_direction)";
    util::msg_info("CONNECT {} {}", direction, endpt);
    bool ready = false;
    if ((flags & (tlsproxy::kRoleServer | tlsproxy::kRoleClient)) == tlsproxy::kRoleServer) {
        ready = g_tls.context != nullptr;
    } else if ((flags & (tlsproxy::kRoleServer | tlsproxy::kRoleClient)) == tlsproxy::kRoleClient) {
        util::msg_warn("TLS client role is not available");
    } else {
        util::msg_warn("bad request flags: 0x{:x}", flags);
    }
    ipc::AttrList reply;
    reply.add(tlsproxy::kAttrStatus, ready ? 1LL : 0LL);
    // Every end before a completed handshake is logged as a failed one,
    // as the reference does (a refused request included).
    auto give_up = [&] {
        util::msg_info("TLS handshake failed for service={} peer={}", service, endpt);
        util::msg_info("DISCONNECT {}", endpt);
    };
    bool sent = ipc::send_attrs(plain_fd, reply, tlsproxy::kInitTimeout).has_value();
    if (!sent || !ready) {
        if (sent) wait_for_close(plain_fd);
        give_up();
        return;
    }
    auto peer = ipc::receive_fd(plain_fd, tlsproxy::kInitTimeout);
    if (!peer) {
        util::msg_warn("receive remote SMTP peer file descriptor: {}", peer.error());
        give_up();
        return;
    }
    tls::StartOptions opts;
    opts.timeout = req->handshake_timeout > 0 ? req->handshake_timeout : 1;
    opts.namaddr = endpt;
    opts.cipher_grade = g_tls.cipher_grade;
    opts.cipher_exclusions = g_tls.cipher_exclusions;
    opts.require_cert = g_tls.req_ccert && g_tls.enforce;
    opts.serverid = service;
    opts.library_errors_only = true;
    auto session = tls::Session::accept(*g_tls.context, peer->get(), opts);
    if (!session) {
        give_up();
        return;
    }
    if (g_tls.context->log_mask() & tls::kLogSummary) util::msg_info_text(session->summary_line(true));
    // The reference allows ten seconds more than the requester's own limit.
    relay(plain_fd, peer->get(), *session, req->session_timeout + 10);
    util::msg_info("DISCONNECT {}", endpt);
}

}  // namespace

int main(int argc, char** argv) {
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) { init_server(ctx.config); };
    return ipc::run_single_server(argc, argv, std::move(hooks), [](ipc::ServerContext&, int fd) {
        serve(fd);
        return false;
    });
}
