// Server and client SSL_CTX construction (see tls_context.h).
//
// Trust: configuration and the key/certificate files it names.
#include "tls/tls_context.h"

#include "config/config.h"
#include "config/mail_params.h"
#include "tls/tls_log.h"
#include "tls/tls_mgr_client.h"
#include "tls/tls_scache.h"
#include "tls/tls_protocols.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>

#include <cstring>
#include <ctime>

#include <cctype>
#include <vector>

namespace pf::tls {

namespace {

// One certificate/key pair; false after the reference's warnings.
bool load_pair(SSL_CTX* ctx, const char* type, const std::string& cert, const std::string& key) {
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) <= 0) {
        util::msg_warn("cannot get {} certificate from file \"{}\": disabling TLS support", type, cert);
        print_errors();
        return false;
    }
    const std::string& keyfile = key.empty() ? cert : key;
    if (SSL_CTX_use_PrivateKey_file(ctx, keyfile.c_str(), SSL_FILETYPE_PEM) <= 0) {
        util::msg_warn("cannot get {} private key from file \"{}\": disabling TLS support", type, keyfile);
        print_errors();
        return false;
    }
    if (!SSL_CTX_check_private_key(ctx)) {
        util::msg_warn("{} private key in {} does not match public key in {}: disabling TLS support", type, keyfile,
                       cert);
        ERR_clear_error();
        return false;
    }
    return true;
}

// chain_files: each file holds a key and its certificate chain.
bool load_chain_files(SSL_CTX* ctx, const std::string& files) {
    for (std::string_view word : util::split_tokens(files, util::kListSeparators)) {
        const std::string file(word);
        ERR_clear_error();
        if (SSL_CTX_use_PrivateKey_file(ctx, file.c_str(), SSL_FILETYPE_PEM) <= 0 ||
            SSL_CTX_use_certificate_chain_file(ctx, file.c_str()) <= 0 || !SSL_CTX_check_private_key(ctx)) {
            util::msg_warn("error loading private keys and certificates from: {}: disabling TLS support", file);
            print_errors();
            return false;
        }
    }
    return true;
}

// The key-exchange groups of tls_eecdh_auto_curves that this OpenSSL knows.
void set_groups(SSL_CTX* ctx, const std::string& curves) {
    std::string ok;
    for (std::string_view word : util::split_tokens(curves, util::kListSeparators)) {
        const std::string name(word);
        SslCtxPtr probe(SSL_CTX_new(TLS_method()));
        if (!probe) break;
        ERR_set_mark();
        bool known = SSL_CTX_set1_groups_list(probe.get(), name.c_str()) == 1;
        ERR_pop_to_mark();
        if (!known) continue;
        if (!ok.empty()) ok += ':';
        ok += name;
    }
    ERR_set_mark();
    if (!ok.empty() && SSL_CTX_set1_groups_list(ctx, ok.c_str()) != 1) util::msg_warn("failed to configure ECDHE curves");
    ERR_pop_to_mark();
}

void set_dh(SSL_CTX* ctx, const std::string& file) {
    if (!file.empty()) {
        BIO* bio = BIO_new_file(file.c_str(), "r");
        EVP_PKEY* dh = bio ? PEM_read_bio_Parameters(bio, nullptr) : nullptr;
        if (bio) BIO_free(bio);
        if (dh && SSL_CTX_set0_tmp_dh_pkey(ctx, dh) == 1) return;
        if (dh) EVP_PKEY_free(dh);
        util::msg_warn("cannot load compiled-in DH parameters");
        ERR_clear_error();
    }
    SSL_CTX_set_dh_auto(ctx, 1);
}

// Accepts every peer certificate: trust is judged after the handshake
// from the verify result, as by the reference (an untrusted client
// certificate still completes the handshake). The first error is kept
// for the log line.
int accept_any(int ok, X509_STORE_CTX* store) {
    VerifyFailure& state = last_verify_failure();
    if (state.verbose) {
        char name[1024] = "";
        X509* cert = X509_STORE_CTX_get_current_cert(store);
        int depth = X509_STORE_CTX_get_error_depth(store);
        if (cert && X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof name)) {
            for (char* c = name; *c; ++c)
                if (static_cast<unsigned char>(*c) < 32 || static_cast<unsigned char>(*c) >= 127) *c = '?';
            util::msg_info("{}: depth={} verify={} subject={}", state.namaddr, depth, ok, name);
        } else {
            util::msg_info("{}: depth={} verify={}", state.namaddr, depth, ok);
        }
    }
    if (!ok) {
        VerifyFailure& f = last_verify_failure();
        if (f.error == X509_V_OK) {
            f.error = X509_STORE_CTX_get_error(store);
            f.depth = X509_STORE_CTX_get_error_depth(store);
            char buf[1024] = "<unknown>";
            if (X509* cert = X509_STORE_CTX_get_current_cert(store))
                X509_NAME_oneline(X509_get_issuer_name(cert), buf, sizeof buf);
            f.issuer = buf;
            for (auto& c : f.issuer)
                if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) >= 127) c = '?';
        }
    }
    return 1;
}

// Session tickets (TLSv1.3 and RFC 5077) with keys from tlsmgr, shared
// by every smtpd process (tls_mgr_client.h); the log lines are the
// reference's (loglevel 2). The key is valid for half the context's
// session lifetime (which is twice the cache timeout).
const EVP_CIPHER* g_ticket_cipher = nullptr;

int ticket_callback(SSL* ssl, unsigned char name[16], unsigned char* iv, EVP_CIPHER_CTX* cctx, EVP_MAC_CTX* hctx,
                    int enc) {
    VerifyFailure& state = last_verify_failure();
    const int timeout = static_cast<int>(SSL_CTX_get_timeout(SSL_get_SSL_CTX(ssl))) / 2;
    std::string_view keyname = enc ? std::string_view() : std::string_view(reinterpret_cast<char*>(name), kTicketNameLen);
    const TicketKey* key = mgr_ticket_key(keyname, timeout);
    // No key: no ticket is issued, and a presented one is not used.
    if (!key || !g_ticket_cipher || (enc && RAND_bytes(iv, kTicketIvLen) <= 0)) return 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>("sha256"), 0),
        OSSL_PARAM_construct_octet_string("key", const_cast<unsigned char*>(key->hmac.data()), kTicketMacLen),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_CTX_set_params(hctx, params)) return enc ? -1 : 0;
    if (enc) {
        if (!EVP_EncryptInit_ex(cctx, g_ticket_cipher, nullptr, key->bits.data(), iv)) return -1;
        std::memcpy(name, key->name.data(), kTicketNameLen);
        if (state.cache_log) util::msg_info("{}: Issuing session ticket, key expiration: {}", state.namaddr, key->tout);
        return 1;
    }
    if (!EVP_DecryptInit_ex(cctx, g_ticket_cipher, nullptr, key->bits.data(), iv)) return 0;
    if (state.cache_log) util::msg_info("{}: Decrypting session ticket, key expiration: {}", state.namaddr, key->tout);
    state.ticketed = true;
    return 1;
}

// The server cache's key: the session ID in hex, the service and the
// OpenSSL version, as the reference builds it.
std::string server_cache_id(const unsigned char* id, unsigned len, const std::string& serverid) {
    return fmt::format("{}&s={}&l={}", hex_encode(std::string_view(reinterpret_cast<const char*>(id), len)), serverid,
                       static_cast<long>(OpenSSL_version_num()));
}

SSL_SESSION* get_server_session(SSL*, const unsigned char* id, int len, int* copy) {
    *copy = 0;
    const VerifyFailure& state = last_verify_failure();
    if (state.cache_type.empty() || len <= 0) return nullptr;
    std::string cache_id = server_cache_id(id, static_cast<unsigned>(len), state.serverid);
    if (state.cache_log)
        util::msg_info("{}: looking up session {} in {} cache", state.namaddr, cache_id, state.cache_type);
    std::string data;
    if (mgr_lookup(state.cache_type, cache_id, data) != kMgrOk) return nullptr;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
    SSL_SESSION* session = d2i_SSL_SESSION(nullptr, &p, static_cast<long>(data.size()));
    if (!session) {
        ERR_clear_error();
        return nullptr;
    }
    if (state.cache_log)
        util::msg_info("{}: reloaded session {} from {} cache", state.namaddr, cache_id, state.cache_type);
    return session;
}

// The session's DER form; empty when it cannot be encoded.
std::string passivate(SSL_SESSION* session) {
    int len = i2d_SSL_SESSION(session, nullptr);
    if (len <= 0) return {};
    std::string out(static_cast<std::size_t>(len), '\0');
    unsigned char* p = reinterpret_cast<unsigned char*>(out.data());
    if (i2d_SSL_SESSION(session, &p) != len) return {};
    return out;
}

int new_server_session(SSL*, SSL_SESSION* session) {
    const VerifyFailure& state = last_verify_failure();
    if (state.cache_type.empty()) return 0;
    unsigned len = 0;
    const unsigned char* id = SSL_SESSION_get_id(session, &len);
    std::string cache_id = server_cache_id(id, len, state.serverid);
    if (state.cache_log) util::msg_info("{}: save session {} to {} cache", state.namaddr, cache_id, state.cache_type);
    std::string data = passivate(session);
    if (!data.empty()) (void)mgr_update(state.cache_type, cache_id, data);
    return 0;   // OpenSSL keeps its reference
}

int new_client_session(SSL*, SSL_SESSION* session) {
    const VerifyFailure& state = last_verify_failure();
    if (state.cache_type.empty() || state.serverid.empty()) return 0;
    if (state.cache_log) util::msg_info("save session {} to {} cache", state.serverid, state.cache_type);
    std::string data = passivate(session);
    if (!data.empty()) (void)mgr_update(state.cache_type, state.serverid, data);
    return 0;
}

}  // namespace

VerifyFailure& last_verify_failure() {
    static VerifyFailure failure;
    return failure;
}

std::string Context::cipher_list(std::string_view grade, std::string_view exclusions, std::string_view namaddr) const {
    std::string list;
    std::string g(grade);
    for (auto& c : g) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (g == "high") list = settings_.high_cipherlist;
    else if (g == "medium") list = settings_.medium_cipherlist;
    else if (g == "null") list = settings_.null_cipherlist;
    else {
        util::msg_warn("{}: invalid cipher grade: \"{}\"", namaddr, grade);
        return {};
    }
    for (std::string_view tok : util::split_tokens(exclusions, ", \t\r\n:")) {
        if (std::string_view("!+-@").find(tok.front()) != std::string_view::npos) {
            util::msg_warn("{}: invalid unary '!+-@' in cipher exclusion: {}", namaddr, tok);
            return {};
        }
        list.append(":!").append(tok);
    }
    return list;
}

std::unique_ptr<Context> make_context(const ContextSettings& s) {
    const bool server = s.role == Role::kServer;
    bool cachable = false;
    int cache_timeout = 0;
    auto protocols = parse_protocols(s.protocols);
    if (!protocols) {
        util::msg_warn("Invalid TLS protocol list \"{}\": disabling TLS support", s.protocols);
        return nullptr;
    }
    if (s.log_mask & kLogVerbose)
        util::msg_info("initializing the {}-side TLS engine", server ? "server" : "client");
    // With tlsmgr in use (a cache type), its random bytes seed the PRNG;
    // like the reference, no TLS without them.
    if (!s.cache_type.empty()) {
        std::string seed;
        if (mgr_seed(s.daemon_random_bytes, seed) != kMgrOk) {
            util::msg_warn("no entropy for TLS key generation: disabling TLS support");
            return nullptr;
        }
        RAND_seed(seed.data(), static_cast<int>(seed.size()));
    }
    SslCtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
    if (!ctx) {
        util::msg_warn("cannot allocate {} SSL_CTX: disabling TLS support", server ? "server" : "client");
        print_errors();
        return nullptr;
    }
    SSL_CTX_set_verify_depth(ctx.get(), s.verify_depth + 1);
    long off = SSL_OP_ALL | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF;
    SSL_CTX_set_options(ctx.get(), off);
    long noproto = 0;
    if (protocols->exclude & kSslV2) noproto |= 0;  // not in OpenSSL 3
    if (protocols->exclude & kSslV3) noproto |= SSL_OP_NO_SSLv3;
    if (protocols->exclude & kTlsV1) noproto |= SSL_OP_NO_TLSv1;
    if (protocols->exclude & kTlsV1_1) noproto |= SSL_OP_NO_TLSv1_1;
    if (protocols->exclude & kTlsV1_2) noproto |= SSL_OP_NO_TLSv1_2;
    if (protocols->exclude & kTlsV1_3) noproto |= SSL_OP_NO_TLSv1_3;
    if (noproto) SSL_CTX_set_options(ctx.get(), noproto);
    SSL_CTX_set_min_proto_version(ctx.get(), protocols->floor);
    SSL_CTX_set_max_proto_version(ctx.get(), protocols->ceiling);
    if (server && s.preempt_cipherlist) SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);

    // CA data first (the reference loads it before the own certificates).
    if (!s.CAfile.empty() || !s.CApath.empty()) {
        const char* file = s.CAfile.empty() ? nullptr : s.CAfile.c_str();
        const char* path = s.CApath.empty() ? nullptr : s.CApath.c_str();
        if (!SSL_CTX_load_verify_locations(ctx.get(), file, path)) {
            std::string what;
            if (file) what += fmt::format("CAfile=\"{}\"{}", s.CAfile, path ? ", " : "");
            if (path) what += fmt::format("CApath=\"{}\"", s.CApath);
            util::msg_info("cannot load Certification Authority data, {}: disabling TLS support", what);
            print_errors();
            return nullptr;
        }
        if (s.append_default_CA && !SSL_CTX_set_default_verify_paths(ctx.get())) {
            util::msg_info("cannot set default OpenSSL certificate verification paths: disabling TLS support");
            print_errors();
            return nullptr;
        }
    }
    if (!s.chain_files.empty()) {
        if (!load_chain_files(ctx.get(), s.chain_files)) return nullptr;
    } else {
        if (!s.cert_file.empty() && !load_pair(ctx.get(), "RSA", s.cert_file, s.key_file)) return nullptr;
        if (!s.dcert_file.empty() && !load_pair(ctx.get(), "DSA", s.dcert_file, s.dkey_file)) return nullptr;
        if (!s.eccert_file.empty() && !load_pair(ctx.get(), "ECDSA", s.eccert_file, s.eckey_file)) return nullptr;
    }
    if (server) {
        set_dh(ctx.get(), s.dh_param_file);
        int flags = s.ask_ccert ? SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE : SSL_VERIFY_NONE;
        SSL_CTX_set_verify(ctx.get(), flags, accept_any);
        if (s.ask_ccert && !s.CAfile.empty()) {
            STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.CAfile.c_str());
            if (!names) {
                util::msg_warn("error loading client CA names from: {}", s.CAfile);
                print_errors();
            }
            SSL_CTX_set_client_CA_list(ctx.get(), names);
        }
        // tlsmgr's policy decides on session caching and tickets.
        if (!s.cache_type.empty() && mgr_policy(s.cache_type, cachable, cache_timeout) != kMgrOk) cache_timeout = 0;
        if (cache_timeout <= 0) cachable = false;
        bool ticketable = cache_timeout > 0 && !s.ticket_cipher.empty();
        if (ticketable) {
            if (!g_ticket_cipher) g_ticket_cipher = EVP_CIPHER_fetch(nullptr, s.ticket_cipher.c_str(), nullptr);
            const EVP_CIPHER* c = g_ticket_cipher;
            if (!c || EVP_CIPHER_get_mode(c) != EVP_CIPH_CBC_MODE ||
                EVP_CIPHER_get_iv_length(c) != static_cast<int>(kTicketIvLen) ||
                EVP_CIPHER_get_key_length(c) < static_cast<int>(kTicketIvLen) ||
                EVP_CIPHER_get_key_length(c) > static_cast<int>(kTicketKeyLen)) {
                util::msg_warn("tls_session_ticket_cipher: invalid value: {}; session tickets disabled", s.ticket_cipher);
                ERR_clear_error();
                ticketable = false;
            }
        }
        if (ticketable) {
            SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx.get(), ticket_callback);
            // One TLSv1.3 ticket per handshake, as the reference sends.
            SSL_CTX_set_num_tickets(ctx.get(), 1);
        } else {
            SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
        }
        static const unsigned char kSessionContext[] = "Postfix/TLS";
        if (cachable || ticketable) {
            SSL_CTX_sess_set_cache_size(ctx.get(), 1);
            SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext);
            SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL |
                                                          SSL_SESS_CACHE_NO_AUTO_CLEAR);
            if (cachable) {
                SSL_CTX_sess_set_get_cb(ctx.get(), get_server_session);
                SSL_CTX_sess_set_new_cb(ctx.get(), new_server_session);
            }
            SSL_CTX_set_timeout(ctx.get(), 2L * cache_timeout);
        } else {
            SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext);
            SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
        }
    } else {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, accept_any);
        if (!s.cache_type.empty() && mgr_policy(s.cache_type, cachable, cache_timeout) != kMgrOk) cache_timeout = 0;
        if (cache_timeout <= 0) cachable = false;
        if (cachable) {
            SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE |
                                                          SSL_SESS_CACHE_NO_AUTO_CLEAR);
            SSL_CTX_sess_set_new_cb(ctx.get(), new_client_session);
        } else {
            SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
        }
    }
    set_groups(ctx.get(), s.eecdh_auto_curves);
    ERR_clear_error();
    auto out = std::make_unique<Context>(s, std::move(ctx));
    out->set_cache_policy(cachable, cache_timeout);
    return out;
}

ContextSettings settings_from_config(const config::Config& config, Role role, std::string_view prefix_view) {
    ContextSettings s;
    std::string p(prefix_view);
    s.role = role;
    s.prefix = p;
    auto get = [&](std::string_view name) { return config.get(p + "_tls_" + std::string(name)); };
    // <prefix>_tls_<name> parameters copied as they are.
    static constexpr std::pair<std::string ContextSettings::*, std::string_view> kCopied[] = {
        {&ContextSettings::loglevel, "loglevel"},
        {&ContextSettings::cert_file, "cert_file"},
        {&ContextSettings::key_file, "key_file"},
        {&ContextSettings::eccert_file, "eccert_file"},
        {&ContextSettings::eckey_file, "eckey_file"},
        {&ContextSettings::dcert_file, "dcert_file"},
        {&ContextSettings::dkey_file, "dkey_file"},
        {&ContextSettings::chain_files, "chain_files"},
        {&ContextSettings::CAfile, "CAfile"},
        {&ContextSettings::CApath, "CApath"},
        {&ContextSettings::protocols, "protocols"},
        {&ContextSettings::cipher_grade, "ciphers"},
        {&ContextSettings::cipher_exclusions, "exclude_ciphers"},
        {&ContextSettings::fingerprint_digest, "fingerprint_digest"},
    };
    for (const auto& [field, name] : kCopied) s.*field = get(name);
    s.log_mask = log_mask(p + "_tls_loglevel", s.loglevel);
    auto depth = config::parse_int_value(get(role == Role::kServer ? "ccert_verifydepth" : "scert_verifydepth"), 100);
    s.verify_depth = depth ? static_cast<int>(*depth) : 9;
    if (role == Role::kServer) {
        s.dh_param_file = get("dh1024_param_file");
        if (s.cert_file == "none" || s.cert_file == "NONE") {
            s.no_server_cert_ok = true;
            s.cert_file.clear();
        }
    }
    s.high_cipherlist = config.get("tls_high_cipherlist");
    s.medium_cipherlist = config.get("tls_medium_cipherlist");
    s.null_cipherlist = config.get("tls_null_cipherlist");
    s.eecdh_auto_curves = config.get("tls_eecdh_auto_curves");
    s.preempt_cipherlist = config::get_bool_param(config, "tls_preempt_cipherlist");
    s.append_default_CA = config::get_bool_param(config, "tls_append_default_CA");
    s.ticket_cipher = config.get("tls_session_ticket_cipher");
    auto bytes = config::parse_int_value(config.get("tls_daemon_random_bytes"), 255);
    s.daemon_random_bytes = bytes && *bytes > 0 ? static_cast<int>(*bytes) : 32;
    s.cache_type = p;
    return s;
}

}  // namespace pf::tls
