// The SMTP client's TLS (see smtp_tls.h): policy, STARTTLS and the
// checks; the OpenSSL calls are in smtp-tls.so (smtp_tls_module.h), loaded
// here when the settings can ask for TLS.
//
// Trust: settings are configuration; server replies and certificates are
// hostile (bounded reads; OpenSSL checks the certificates in the module).
// The module is found beside this program.
#include "daemon/smtp/smtp_tls.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "mail/maps.h"
#include "tls/tls_log.h"
#include "util/msg.h"
#include "util/shared_library.h"
#include "util/strings.h"

#include <fmt/core.h>

#include <climits>
#include <unistd.h>

namespace pf::smtp_agent {

namespace {

bool must_match(tls::Level level) {
    return level == tls::Level::kVerify || level == tls::Level::kSecure || level == tls::Level::kFingerprint;
}

bool required(tls::Level level) { return level >= tls::Level::kEncrypt; }

std::string strip_colons_upper(std::string_view fp) {
    std::string out;
    for (char c : fp)
        if (c != ':') out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
}

// Whether the peer certificate matches the policy (verify/secure: a
// trusted chain and a name; fingerprint: a listed digest).
bool certificate_matches(const TlsClientSession& s, const TlsPolicy& policy, const SmtpTlsSettings& settings,
                         const std::string& host, const std::string& nexthop) {
    const tls::PeerInfo& p = s.peer();
    if (!p.cert_present) return false;
    if (policy.level == tls::Level::kFingerprint) {
        std::vector<std::string> list = policy.matches;
        if (list.empty())
            for (auto m : util::split_tokens(settings.fingerprint_cert_match, ", \t\r\n|")) list.emplace_back(m);
        std::string cert = strip_colons_upper(p.cert_fingerprint);
        std::string pkey = strip_colons_upper(p.pkey_fingerprint);
        for (const auto& m : list) {
            std::string want = strip_colons_upper(m);
            if (!want.empty() && (want == cert || want == pkey)) return true;
        }
        return false;
    }
    if (!p.trusted) return false;
    std::vector<std::string> names = policy.matches;
    if (names.empty())
        for (auto n : util::split_tokens(
                 policy.level == tls::Level::kSecure ? settings.secure_cert_match : settings.verify_cert_match,
                 ", \t\r\n:"))
            names.emplace_back(n);
    std::string domain = nexthop.empty() ? host : nexthop;
    for (const auto& n : names) {
        std::string lower = util::to_lower(n);
        std::string want;
        bool sub = false;
        if (lower == "hostname") want = host;
        else if (lower == "nexthop") want = domain;
        else if (lower == "dot-nexthop") {
            want = domain;
            sub = true;
        } else if (!lower.empty() && lower.front() == '.') {
            want = lower.substr(1);
            sub = true;
        } else {
            want = lower;
        }
        if (want.empty()) continue;
        if (s.certificate_names(want, sub)) return true;
    }
    return false;
}

// One field of the session cache key: the text and '&', base64 when it
// holds an '&' itself, just '&' when empty (the reference's key format).
void key_field(std::string& key, std::string_view text) {
    if (text.find('&') != std::string_view::npos) {
        static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::size_t i = 0;
        for (; i + 2 < text.size(); i += 3) {
            unsigned v = (static_cast<unsigned char>(text[i]) << 16) | (static_cast<unsigned char>(text[i + 1]) << 8) |
                         static_cast<unsigned char>(text[i + 2]);
            key += kB64[(v >> 18) & 63];
            key += kB64[(v >> 12) & 63];
            key += kB64[(v >> 6) & 63];
            key += kB64[v & 63];
        }
        if (i < text.size()) {
            unsigned v = static_cast<unsigned char>(text[i]) << 16;
            if (i + 1 < text.size()) v |= static_cast<unsigned char>(text[i + 1]) << 8;
            key += kB64[(v >> 18) & 63];
            key += kB64[(v >> 12) & 63];
            key += i + 1 < text.size() ? kB64[(v >> 6) & 63] : '=';
            key += '=';
        }
    } else {
        key += text;
    }
    key += '&';
}

// "host[addr]:port" or "host[addr]" → addr.
std::string relay_addr(const std::string& relay) {
    auto open = relay.find('[');
    auto close = relay.rfind(']');
    if (open == std::string::npos || close == std::string::npos || close < open) return {};
    return relay.substr(open + 1, close - open - 1);
}

// The handshake with the checks; the caller has the stream at a TLS start.
TlsOutcome handshake(const SmtpTlsSettings& settings, const TlsPolicy& policy, smtp::SmtpStream& stream,
                     std::unique_ptr<TlsClientSession>& out, const std::string& host, const std::string& relay,
                     const std::string& nexthop, const std::string& helo = {}) {
    const bool mandatory = required(policy.level);
    const TlsClientContext* ctx = mandatory ? settings.mandatory.get() : settings.opportunistic.get();
    if (!ctx) return {false, "4.7.5", "TLS is required, but our TLS engine is unavailable"};
    tls::StartOptions opts;
    opts.timeout = settings.starttls_timeout;
    opts.namaddr = relay;
    opts.cipher_grade = mandatory ? settings.mandatory_ciphers : settings.ciphers;
    opts.cipher_exclusions = settings.exclude_ciphers;
    if (mandatory && !settings.mandatory_exclude_ciphers.empty())
        opts.cipher_exclusions += (opts.cipher_exclusions.empty() ? "" : " ") + settings.mandatory_exclude_ciphers;
    // As the reference: encrypt never uses a null cipher, the levels that
    // check the certificate never an anonymous one.
    if (mandatory) {
        const char* also = policy.level == tls::Level::kEncrypt ? "eNULL" : "aNULL";
        opts.cipher_exclusions += (opts.cipher_exclusions.empty() ? "" : " ") + std::string(also);
    }
    // verify and secure log why a certificate is not trusted; fingerprint
    // does not look at trust.
    opts.require_cert = policy.level == tls::Level::kVerify || policy.level == tls::Level::kSecure;
    // The session cache key: service, destination, host and address (the
    // TLS library salts it with the protocol and cipher lists).
    key_field(opts.serverid, settings.service);
    key_field(opts.serverid, policy.nexthop.empty() ? host : policy.nexthop);
    key_field(opts.serverid, host);
    key_field(opts.serverid, relay_addr(relay));
    opts.helo = helo;
    auto session = ctx->connect(stream.fd(), opts);
    if (!session) return {false, "4.7.5", "Cannot start TLS: handshake failure", true};
    bool matched = must_match(policy.level) && certificate_matches(*session, policy, settings, host, nexthop);
    session->peer().verified = matched;
    // The fingerprint level goes through OpenSSL's DANE matching in the
    // reference: a mismatch is reported as that check's error.
    if (policy.level == tls::Level::kFingerprint && !matched)
        util::msg_info("server certificate verification failed for {}: {}", relay, settings.dane_no_match);
    if (ctx->log_mask() & tls::kLogSummary) util::msg_info_text(session->summary_line());
    stream.set_transport(session.get());
    out = std::move(session);
    if (must_match(policy.level) && !matched) return {false, "4.7.5", "Server certificate not verified"};
    return {};
}

// smtp-tls.so's entry point. The module is looked for in the directory of
// the running program (/proc/self/exe, read before the chroot; lmtp is a
// hard link beside smtp), where it is installed and built, else (no /proc)
// in daemon_directory; a missing module is fatal as a table module that
// does not load is ("load_library_symbols: dlopen failure loading ...").
TlsModuleInit* tls_module(const config::Config& config) {
    std::string path = util::module_beside_program(config.get("daemon_directory"), kTlsModuleFile);
    TlsModuleInit* init = nullptr;
    util::bind_library_function(init, util::load_library(path.c_str()), path.c_str(), kTlsModuleInit);
    return init;
}

}  // namespace

std::shared_ptr<SmtpTlsSettings> SmtpTlsSettings::from_config(const config::Config& config, bool lmtp) {
    auto t = std::make_shared<SmtpTlsSettings>();
    std::string p = lmtp ? "lmtp" : "smtp";
    t->prefix = p;
    t->lmtp = lmtp;
    t->service = config.get("service_name");
    std::string level = config.get(p + "_tls_security_level");
    if (!level.empty()) {
        auto l = tls::level_lookup(level);
        if (!l) util::msg_fatal("{}: unknown TLS security level '{}'", p + "_tls_security_level", level);
        t->level = *l;
    } else if (config::get_bool_param(config, p + "_enforce_tls")) {
        t->level = config::get_bool_param(config, p + "_tls_enforce_peername") ? tls::Level::kVerify
                                                                               : tls::Level::kEncrypt;
    } else if (config::get_bool_param(config, p + "_use_tls")) {
        t->level = tls::Level::kMay;
    }
    if (t->level == tls::Level::kDane) {
        // No DNSSEC validation here: DANE without TLSA records is "may".
        // dane-only stays: it is mandatory, and tls_policy_for() defers it.
        t->level = tls::Level::kMay;
    }
    t->wrappermode = config::get_bool_param(config, p + "_tls_wrappermode");
    auto secs = config::parse_time_value(config.get(p + "_starttls_timeout"), 's');
    t->starttls_timeout = secs && *secs > 0 ? *secs : 300;
    t->ciphers = config.get(p + "_tls_ciphers");
    t->mandatory_ciphers = config.get(p + "_tls_mandatory_ciphers");
    t->exclude_ciphers = config.get(p + "_tls_exclude_ciphers");
    t->mandatory_exclude_ciphers = config.get(p + "_tls_mandatory_exclude_ciphers");
    t->verify_cert_match = config.get(p + "_tls_verify_cert_match");
    t->secure_cert_match = config.get(p + "_tls_secure_cert_match");
    t->fingerprint_cert_match = config.get(p + "_tls_fingerprint_cert_match");
    std::string maps = config.get(p + "_tls_policy_maps");
    if (!maps.empty()) {
        auto m = mail::Maps::open(p + "_tls_policy_maps", maps, dict::kFoldFixed);
        if (!m) util::msg_fatal("{}", m.error());
        t->policy_maps = std::make_shared<mail::Maps>(std::move(*m));
    }
    // Only now can TLS be needed: load the module and build the contexts.
    if (t->level == tls::Level::kNone && !t->policy_maps && !t->wrappermode) return t;
    TlsClientContexts contexts;
    tls_module(config)(config, p, contexts);
    t->opportunistic = std::move(contexts.opportunistic);
    t->mandatory = std::move(contexts.mandatory);
    t->dane_no_match = std::move(contexts.dane_no_match);
    t->engine_failed = !t->opportunistic || !t->mandatory;
    return t;
}

namespace {

TlsPolicy tls_policy_lookup(const SmtpTlsSettings& settings, std::string_view nexthop) {
    TlsPolicy p;
    p.level = settings.level;
    if (!settings.policy_maps || nexthop.empty()) return p;
    // The destination, then its parent domains as ".example.com" (only
    // for a plain domain name), as the reference looks them up.
    std::string key = util::to_lower(nexthop);
    dict::LookupResult r = settings.policy_maps->find(key);
    bool plain = key.find_first_of("[]:") == std::string::npos;
    for (std::size_t dot = key.find('.', 1); plain && r.is_not_found() && dot != std::string::npos;
         dot = key.find('.', dot + 1))
        r = settings.policy_maps->find(key.substr(dot));
    if (r.is_error()) {
        p.error = true;
        return p;
    }
    if (!r.is_found()) return p;
    auto w = util::split_tokens(r.value(), " \t\r\n,");
    if (w.empty()) return p;
    auto l = tls::level_lookup(w.front());
    if (!l) {
        util::msg_warn("{}: invalid TLS security level \"{}\" for \"{}\"", settings.prefix + "_tls_policy_maps",
                       w.front(), nexthop);
        p.error = true;
        return p;
    }
    p.level = *l == tls::Level::kDane ? tls::Level::kMay : *l;
    for (std::size_t i = 1; i < w.size(); ++i) {
        if (!util::iequals(w[i].substr(0, 6), "match=")) continue;
        std::string_view value = w[i].substr(6);
        for (auto f : util::split_tokens(value, p.level == tls::Level::kFingerprint ? "|" : ":"))
            p.matches.emplace_back(f);
    }
    return p;
}

}  // namespace

TlsPolicy tls_policy_for(const SmtpTlsSettings& settings, std::string_view nexthop) {
    TlsPolicy p = tls_policy_lookup(settings, nexthop);
    p.nexthop = std::string(nexthop);
    // dane-only needs DNSSEC-validated TLSA records, which this client does
    // not look up: never deliver such mail without them (defer), rather
    // than fall back to opportunistic TLS or plain text.
    if (p.level == tls::Level::kDaneOnly) p.error = true;
    return p;
}

TlsOutcome smtp_starttls(const SmtpTlsSettings& settings, const TlsPolicy& policy, smtp::SmtpStream& stream,
                         smtp::ServerFeatures& features, std::unique_ptr<TlsClientSession>& tls,
                         const std::string& host, const std::string& namaddr, const std::string& relay,
                         const std::string& nexthop) {
    if (policy.error) return {false, "4.7.5", "TLS policy lookup problem"};
    if (policy.level == tls::Level::kNone || tls) return {};
    if (!(features.flags & smtp::kFeatureStartTls)) {
        if (required(policy.level))
            return {false, "4.7.4", fmt::format("TLS is required, but was not offered by host {}", namaddr)};
        return {};
    }
    if (required(policy.level) && (!settings.mandatory || settings.engine_failed))
        return {false, "4.7.5", "TLS is required, but our TLS engine is unavailable"};
    if (!required(policy.level) && !settings.opportunistic) return {};
    stream.set_timeout(settings.helo_timeout);
    stream.write("STARTTLS\r\n");
    if (!stream.flush()) return {false, "4.4.2", fmt::format("lost connection with {} while sending STARTTLS", namaddr)};
    auto r = smtp::read_client_reply(stream, 2048);
    if (!r) {
        if (r.error() == smtp::StreamError::kTimeout)
            return {false, "4.4.2", fmt::format("conversation with {} timed out while receiving the STARTTLS response", namaddr)};
        return {false, "4.4.2", fmt::format("lost connection with {} while receiving the STARTTLS response", namaddr)};
    }
    if (r->code / 100 != 2) {
        features.flags &= ~smtp::kFeatureStartTls;
        if (required(policy.level)) {
            std::string status = r->dsn.empty() ? (r->code / 100 == 5 ? "5.0.0" : "4.0.0") : r->dsn;
            status[0] = '4';
            return {false, status,
                    fmt::format("TLS is required, but host {} refused to start TLS: {}", namaddr, r->one_line())};
        }
        return {};
    }
    auto out = handshake(settings, policy, stream, tls, host, relay, nexthop, features.helo);
    if (!out.ok) return out;
    // EHLO again, now over TLS: the features may differ.
    std::string verb = settings.lmtp ? "LHLO" : "EHLO";
    stream.write(verb + " " + settings.helo_name + "\r\n");
    if (!stream.flush()) return {false, "4.4.2", fmt::format("lost connection with {} while performing the EHLO handshake", namaddr)};
    auto e = smtp::read_client_reply(stream, 2048);
    if (!e) return {false, "4.4.2", fmt::format("lost connection with {} while performing the EHLO handshake", namaddr)};
    if (e->code / 100 != 2) {
        std::string status = e->dsn.empty() ? "4.0.0" : e->dsn;
        status[0] = '4';
        return {false, status, fmt::format("host {} refused to talk to me: {}", namaddr, e->one_line())};
    }
    features = smtp::parse_ehlo_features(e->text);
    return {};
}

TlsOutcome smtp_tls_wrapper(const SmtpTlsSettings& settings, const TlsPolicy& policy, smtp::SmtpStream& stream,
                            std::unique_ptr<TlsClientSession>& tls, const std::string& host, const std::string& relay,
                            const std::string& nexthop) {
    TlsPolicy p = policy;
    if (p.level == tls::Level::kNone || p.level == tls::Level::kMay) p.level = tls::Level::kEncrypt;
    return handshake(settings, p, stream, tls, host, relay, nexthop);
}

}  // namespace pf::smtp_agent
