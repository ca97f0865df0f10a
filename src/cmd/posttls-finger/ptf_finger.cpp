// posttls-finger(1)'s conversation with the server (see ptf_finger.h).
//
// Trust: server replies are hostile: bounded reads, censored before they
// are logged; certificates are parsed by OpenSSL only.
#include "cmd/posttls-finger/ptf_finger.h"

#include "cmd/posttls-finger/ptf_connect.h"
#include "config/config.h"
#include "smtp/smtp_stream.h"
#include "tls/tls_log.h"
#include "tls/tls_mgr_client.h"
#include "tls/tls_session.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <ctime>
#include <optional>
#include <unistd.h>

namespace pf::ptf {

namespace {

struct Response {
    int code = 0;
    std::string text;   // continuation lines joined with '\n'
};

enum class Failure { kEof, kTimeout };

const char* failure_text(Failure f) { return f == Failure::kTimeout ? "timeout" : "lost connection"; }

Failure failure_of(smtp::StreamError e) { return e == smtp::StreamError::kTimeout ? Failure::kTimeout : Failure::kEof; }

bool must_match(tls::Level l) { return l > tls::Level::kEncrypt; }

struct Conversation {
    Conversation(const Options& opts, const config::Config& cfg, FingerSetup& s, std::string& c)
        : o(opts), config(cfg), setup(s), chain(c) {}
    const Options& o;
    const config::Config& config;
    FingerSetup& setup;
    std::string& chain;
    int pass = 1;
    int reconnect = -1;
    int max_reconnect = 5;
    unsigned log_mask = 0;
    tls::Level level = tls::Level::kNone;   // of this connection
    std::string nexthop;                    // kept across reconnections
    std::string hostname;
    std::string helo;                       // the server's EHLO name
    std::optional<Connection> conn;
    std::unique_ptr<smtp::SmtpStream> stream;
    std::unique_ptr<tls::Session> session;
    bool tls_started = false;

    void command(bool verbose, const std::string& line) {
        if (verbose && !o.nochat) util::msg_info("> {}", line);
        stream->write(line);
        stream->write("\r\n");
    }

    // The reply, its lines logged (non-printable bytes as '?') when verbose.
    std::expected<Response, Failure> response(bool verbose) {
        if (auto f = stream->flush(); !f) return std::unexpected(failure_of(f.error()));
        Response r;
        for (;;) {
            auto line = stream->read_line(static_cast<std::size_t>(setup.line_limit), true);
            if (!line) return std::unexpected(failure_of(line.error()));
            std::string text = std::move(line->text);
            for (char& c : text) {
                auto u = static_cast<unsigned char>(c);
                if (!std::isprint(u) && !std::isspace(u)) c = '?';
            }
            if (verbose && !o.nochat) util::msg_info("< {}", text);
            std::size_t i = 0;
            while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
            r.code = i == 3 ? std::atoi(text.substr(0, 3).c_str()) : 0;
            bool more = i < text.size() && text[i] == '-';
            if (more) ++i;
            while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
            if (r.text.size() < static_cast<std::size_t>(setup.line_limit)) r.text += text.substr(i);
            if (!more) break;
            if (r.text.size() < static_cast<std::size_t>(setup.line_limit)) r.text += '\n';
        }
        return r;
    }

    bool greeting() {
        stream->set_timeout(o.conn_tmout > 0 ? o.conn_tmout : 30);
        auto r = response(true);
        if (!r) {
            util::msg_info("{} while reading server greeting", failure_text(r.error()));
            return false;
        }
        if (r->code / 100 != 2) {
            util::msg_info("SMTP service not available: {} {}", r->code, r->text);
            return false;
        }
        return true;
    }

    std::optional<Response> ehlo() {
        const char* verb = o.smtp ? "EHLO" : "LHLO";
        bool verbose = pass == 1 && !o.nochat;
        stream->set_timeout(o.smtp_tmout);
        command(verbose, fmt::format("{} {}", verb, setup.myhostname));
        auto r = response(verbose);
        if (!r) {
            util::msg_info("{} while sending {}", failure_text(r.error()), verb);
            return std::nullopt;
        }
        if (r->code / 100 != 2) {
            util::msg_info("{} rejected: {} {}", verb, r->code, r->text);
            return std::nullopt;
        }
        return std::move(*r);
    }

    // The names the certificate must carry, as OpenSSL checks them.
    std::vector<std::string> match_names() const {
        std::vector<std::string> out;
        for (const auto& m : setup.match) {
            std::string lower = util::to_lower(m);
            if (lower == "nexthop") out.push_back(nexthop);
            else if (lower == "dot-nexthop") out.push_back("." + nexthop);
            else if (lower == "hostname") out.push_back(hostname);
            else if (m == ".") util::msg_warn("{}: ignoring invalid match name: \".\"", conn->namaddrport);
            else out.push_back(m);
        }
        return out;
    }

    // The fingerprint digests of the right length for the digest in use;
    // the others are reported as the reference reports unusable TLSA
    // records (as a public-key digest, then as a certificate digest).
    std::vector<std::string> usable_fingerprints() const {
        std::vector<std::string> out;
        const EVP_MD* md = EVP_get_digestbyname(setup.mdalg.c_str());
        std::size_t want = md ? static_cast<std::size_t>(EVP_MD_get_size(md)) : 0;
        for (const auto& f : setup.fingerprints) {
            std::string hex;
            for (char c : f)
                if (c != ':') hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (hex.size() / 2 == want) {
                out.push_back(f);
                continue;
            }
            util::msg_warn("{}: unusable TLSA RR: 3 1 255 {}", conn->namaddrport, hex);
            util::msg_warn("{}: unusable TLSA RR: 3 0 255 {}", conn->namaddrport, hex);
        }
        return out;
    }

    void print_chain() {
        STACK_OF(X509)* sk = SSL_get_peer_cert_chain(session->ssl());
        if (!sk) return;
        std::string out = "\n---\nCertificate chain\n";
        for (int i = 0; i < sk_X509_num(sk); ++i) {
            X509* cert = sk_X509_value(sk, i);
            char buf[256];
            if (X509_NAME* xn = X509_get_subject_name(cert)) {
                X509_NAME_oneline(xn, buf, sizeof buf);
                out += fmt::format("{:2d} subject: {}\n", i, buf);
            }
            if (X509_NAME* xn = X509_get_issuer_name(cert)) {
                X509_NAME_oneline(xn, buf, sizeof buf);
                out += fmt::format("    issuer: {}\n", buf);
            }
            out += fmt::format("   cert digest={}\n", tls::cert_fingerprint(cert, setup.mdalg));
            out += fmt::format("   pkey digest={}\n", tls::pkey_fingerprint(cert, setup.mdalg));
            BIO* bio = BIO_new(BIO_s_mem());
            if (bio && PEM_write_bio_X509(bio, cert)) {
                char* data = nullptr;
                long n = BIO_get_mem_data(bio, &data);
                if (n > 0) out.append(data, static_cast<std::size_t>(n));
            }
            BIO_free(bio);
        }
        // The reference prints through stdio: at once on a terminal, at
        // exit otherwise (after every log line).
        if (::isatty(1)) (void)!::write(1, out.data(), out.size());
        else chain += out;
    }

    bool starttls() {
        if (!o.wrapper) {
            stream->set_timeout(o.smtp_tmout);
            command(pass == 1, "STARTTLS");
            auto r = response(pass == 1);
            if (!r) util::msg_fatal("{} while sending STARTTLS", failure_text(r.error()));
            if (r->code / 100 != 2) {
                util::msg_info("STARTTLS rejected: {} {}", r->code, r->text);
                return false;
            }
        }
        if (o.tlsproxy) {
            // tlsproxy(8)'s client role is not implemented: say so as the
            // reference does when the service cannot be used.
            std::string service = "private/tlsproxy";
            std::string queue = config.get("queue_directory");
            if (::chdir(queue.c_str()) != 0) util::msg_fatal("chdir({}): {}", queue, std::strerror(errno));
            std::string path = queue + "/" + service;
            int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un sun{};
            sun.sun_family = AF_UNIX;
            bool fits = path.size() < sizeof sun.sun_path;
            if (fits) std::memcpy(sun.sun_path, path.data(), path.size());
            if (fd < 0 || !fits || ::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0)
                util::msg_warn("connect to {} service: {}", service, std::strerror(errno));
            else
                util::msg_warn("{} service role \"client\" is not available", service);
            if (fd >= 0) ::close(fd);
            return false;
        }
        tls::StartOptions opts;
        opts.timeout = o.smtp_tmout;
        opts.namaddr = conn->namaddrport;
        opts.cipher_grade = o.grade;
        // As the reference: authenticating levels never use anonymous
        // ciphers, the others never null ones.
        opts.cipher_exclusions = must_match(level) ? "aNULL" : "eNULL";
        if (o.sni == "hostname") opts.server_name = hostname;
        else if (o.sni == "nexthop") opts.server_name = nexthop;
        else opts.server_name = o.sni;
        opts.require_cert = must_match(level);
        opts.serverid = conn->addrport;
        opts.helo = helo;
        if (setup.bad_protocols) {
            util::msg_warn("{}: Invalid TLS protocol list \"{}\": aborting TLS session", conn->namaddrport,
                           o.protocols);
            return false;
        }
        if (level == tls::Level::kFingerprint) {
            opts.match_fingerprints = usable_fingerprints();
        } else if (level == tls::Level::kVerify || level == tls::Level::kSecure) {
            opts.match_names = match_names();
            if (opts.match_names.empty()) {
                util::msg_warn("{}: could not configure peer name checks", conn->namaddrport);
                opts.must_fail = true;
            }
        }
        opts.log_trust_anchor = setup.trust_anchors;
        session = tls::Session::connect(*setup.tls, stream->fd(), opts);
        helo.clear();
        if (!session) return false;
        if (setup.tls->log_mask() & tls::kLogSummary) util::msg_info_text(session->summary_line(false));
        stream->set_transport(session.get());
        tls_started = true;
        if (o.wrapper && !greeting()) return false;
        if (pass == 1) {
            (void)ehlo();
            if (!session->peer().cert_present) util::msg_info("Server is anonymous");
            else if (o.print_trust) print_chain();
            log_mask &= ~(tls::kLogCertMatch | tls::kLogPeerCert | tls::kLogVerbose | tls::kLogUntrusted);
            log_mask |= tls::kLogCache | tls::kLogSummary;
            setup.tls->set_log_mask(log_mask);
        }
        return true;
    }

    bool doproto() {
        bool offered = false;
        if (!o.wrapper) {
            if (!greeting()) return false;
            auto r = ehlo();
            if (!r) return false;
            std::size_t n = 0;
            for (auto line : util::split_tokens(r->text, "\n")) {
                auto words = util::split_tokens(line, " \t=");
                if (words.empty()) {
                    ++n;
                    continue;
                }
                if (n == 0) helo = std::string(words.front());
                if (util::iequals(words.front(), "STARTTLS")) {
                    offered = true;
                    break;
                }
                ++n;
            }
        }
        if ((o.wrapper || offered) && setup.tls && !starttls()) return false;
        stream->set_timeout(o.smtp_tmout);
        command(true, "QUIT");
        if (auto r = response(true); !r) util::msg_warn("{} while sending QUIT command", failure_text(r.error()));
        return true;
    }

    bool connect() {
        if (!o.smtp && o.args[0].starts_with("unix:")) {
            std::string why;
            conn = connect_unix(o.args[0].substr(5), setup.myhostname, o.conn_tmout, why);
            if (nexthop.empty()) nexthop = setup.myhostname;
            hostname = setup.myhostname;
            if (!conn) util::msg_info("Failed to establish session to {}: {}", o.args[0], why);
            // As the reference: a UNIX-domain connection ends right here.
            return false;
        }
        ConnectRequest req;
        req.dest = o.args[0];
        if (!o.smtp && req.dest.starts_with("inet:")) req.dest.erase(0, 5);
        req.smtp = o.smtp;
        req.ipv4 = setup.ipv4;
        req.ipv6 = setup.ipv6;
        std::string pref = util::to_lower(o.addr_pref);
        req.prefer_ipv4 = pref == "ipv4";
        req.prefer_ipv6 = pref == "ipv6";
        req.timeout = o.conn_tmout;
        conn = connect_inet(config, req, nexthop);
        if (!conn) return false;
        hostname = conn->hostname;
        // Without DNSSEC-validated TLSA records the dane levels fall back
        // to "secure".
        level = o.level;
        if (level == tls::Level::kDane || level == tls::Level::kDaneOnly) {
            if (util::msg_verbose || level == tls::Level::kDaneOnly)
                util::msg_info("no TLSA records found, resorting to \"secure\"");
            level = tls::Level::kSecure;
        }
        return true;
    }

    void disconnect() {
        if (session) session->shutdown(o.smtp_tmout);
        session.reset();
        stream.reset();
        if (conn && conn->fd >= 0) ::close(conn->fd);
        conn.reset();
        tls_started = false;
        hostname.clear();
        if (reconnect <= 0) nexthop.clear();
    }

    // One connection; false when the run is over.
    bool finger() {
        bool ok = connect();
        if (ok) {
            stream = std::make_unique<smtp::SmtpStream>(conn->fd, o.conn_tmout);
            if (pass == 1 && !o.nochat) util::msg_info("Connected to {}", conn->namaddrport);
            ok = doproto();
        }
        disconnect();
        if (!ok) return false;
        if (reconnect > 0) {
            tls::MemoryCacheStatus st = tls::mgr_memory_cache_status();
            if (st.enabled && st.count == 0) {
                util::msg_info("Server declined session caching. Done reconnecting.");
                reconnect = 0;
            } else if (st.hits > 0 && (log_mask & tls::kLogCache)) {
                util::msg_info("Found a previously used server.  Done reconnecting.");
                reconnect = 0;
            } else if (max_reconnect-- <= 0) {
                util::msg_info("Maximum reconnect count reached.");
                reconnect = 0;
            }
        }
        return true;
    }
};

}  // namespace

void run(const Options& options, const config::Config& config, FingerSetup& setup, std::string& chain) {
    Conversation c(options, config, setup, chain);
    c.reconnect = options.reconnect;
    c.max_reconnect = options.max_reconnect;
    c.log_mask = options.log_mask;
    for (;;) {
        if (!c.finger()) break;
        if (c.reconnect <= 0) break;
        util::msg_info("Reconnecting after {} seconds", c.reconnect);
        ++c.pass;
        // The delay is what the user asked for between the connections.
        struct timespec left{c.reconnect, 0};
        while (::nanosleep(&left, &left) == -1 && errno == EINTR) {}
    }
}

}  // namespace pf::ptf
