// posttls-finger(1): probes the TLS properties of an SMTP or LMTP server,
// as the reference 3.7.11's program does. Its log lines go to stdout as
// "posttls-finger: text" ("posttls-finger: warning: ...", "fatal: ..."),
// the usage text to stderr. It reads main.cf (MAIL_CONFIG) with -o
// overrides, builds a client TLS engine from its own options only (no
// smtp_tls_* parameter, no tlsmgr: sessions are cached in memory with -r),
// drops root privileges to mail_owner before it connects, and exits 0
// once the conversation is over whatever the server said; 1 after a
// usage or fatal error.
//
// Trust: the invoking user's arguments; the server is remote and hostile
// (see ptf_finger.h).
#include "cmd/posttls-finger/ptf_finger.h"
#include "cmd/posttls-finger/ptf_options.h"
#include "config/command_start.h"
#include "config/config.h"
#include "config/expand.h"
#include "config/mail_params.h"
#include "tls/tls_context.h"
#include "tls/tls_log.h"
#include "tls/tls_mgr_client.h"
#include "tls/tls_protocols.h"
#include "util/msg.h"
#include "util/privileges.h"
#include "util/strings.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <openssl/evp.h>
#include <cstring>
#include <cstdlib>
#include <exception>
#include <limits.h>
#include <unistd.h>

namespace {

using namespace pf;

// Every diagnostic goes to stdout, as the reference's (a diagnostic tool).
void log_to_stdout() {
    util::msg_set_stderr(false);
    util::msg_set_sink([](util::MsgLevel level, std::string_view text) {
        std::string line = util::msg_program() + ": ";
        switch (level) {
        case util::MsgLevel::warning: line += "warning: "; break;
        case util::MsgLevel::error: line += "error: "; break;
        case util::MsgLevel::fatal: line += "fatal: "; break;
        case util::MsgLevel::panic: line += "panic: "; break;
        case util::MsgLevel::info: break;
        }
        line += text;
        line += '\n';
        (void)!::write(1, line.data(), line.size());
    });
}

// A digest "AB:CD:..." or "abcd...": hex pairs, colons between pairs.
bool valid_fingerprint(std::string_view v) {
    std::size_t digits = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        char c = v[i];
        if (std::isxdigit(static_cast<unsigned char>(c))) {
            ++digits;
        } else if (c == ':' && digits % 2 == 0 && digits > 0 && i + 1 < v.size()) {
            continue;
        } else {
            return false;
        }
    }
    return digits > 0 && digits % 2 == 0;
}

// Whether smtp_tls_fingerprint_digest is the pre-3.6 default "md5" only
// because of compatibility_level (the reference then says so when it uses it).
bool compat_md5(const config::Config& cfg) {
    auto below = config::compare_compat_levels(cfg.get("compatibility_level"), "3.6");
    if (!below || *below >= 0) return false;
    const std::string name = "smtp_tls_fingerprint_digest";
    return cfg.main_cf().find(name) == nullptr && cfg.overrides().find(name) == cfg.overrides().end();
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    config::command_start(argv, "posttls-finger");
    log_to_stdout();
    ptf::Options o = ptf::parse_options(argc, argv);
    util::msg_verbose = o.verbose;
    if (const char* v = std::getenv("MAIL_VERBOSE"); v && *v) ++util::msg_verbose;

    const char* env = std::getenv("MAIL_CONFIG");
    config::Config cfg(config::resolve_config_directory(nullptr));
    try {
        cfg.load_main_cf(env && *env);
        for (const auto& [name, value] : o.overrides) cfg.set_override(name, value);
        config::check_mail_params(cfg);
    } catch (const std::exception& e) {
        util::msg_fatal("{}", e.what());
    }
    // Trust-anchor files replace CAfile and CApath at the levels that
    // verify the chain (approximated: the first file's certificates are
    // the only trusted ones).
    bool use_anchors = !o.trust_anchors.empty() && (o.level == tls::Level::kSecure || o.level == tls::Level::kVerify);
    if (use_anchors && ::access(o.trust_anchors.front().c_str(), R_OK) != 0) {
        util::msg_warn("error opening trust anchor file: {}: {}", o.trust_anchors.front(), std::strerror(errno));
        util::msg_fatal("Failed to load trust anchor file: {}", o.trust_anchors.front());
    }

    ptf::FingerSetup setup;
    setup.trust_anchors = use_anchors;
    setup.myhostname = cfg.get("myhostname");
    bool md5_note = !o.mdalg && compat_md5(cfg);
    setup.mdalg = o.mdalg ? *o.mdalg : cfg.get("smtp_tls_fingerprint_digest");
    if (auto limit = config::parse_int_value(cfg.get("line_length_limit"), INT_MAX); limit && *limit > 0)
        setup.line_limit = static_cast<int>(*limit);
    std::string protos = util::to_lower(cfg.get("inet_protocols"));
    if (protos != "all") {
        setup.ipv4 = protos.find("ipv4") != std::string::npos;
        setup.ipv6 = protos.find("ipv6") != std::string::npos;
    }

    // The client TLS engine, from the options alone; sessions go to the
    // in-memory cache, and only with -r.
    // The checks the reference makes while it sets up its TLS engine: the
    // digest must exist, the key and certificate files must open (else no
    // TLS at all); a bad protocol list only shows when a session starts.
    bool tls_on = !o.tls_disabled;
    if (tls_on && !EVP_get_digestbyname(setup.mdalg.c_str())) {
        util::msg_warn("Digest algorithm \"{}\" not found", setup.mdalg);
        util::msg_warn("disabling TLS support");
        tls_on = false;
    }
    if (tls_on) {
        std::vector<std::string> files;
        for (auto f : util::split_tokens(o.chains, ", \t\r\n")) files.emplace_back(f);
        if (!o.certfile.empty()) files.push_back(o.certfile);
        if (!o.keyfile.empty() && o.keyfile != o.certfile) files.push_back(o.keyfile);
        for (const auto& f : files) {
            if (FILE* fp = std::fopen(f.c_str(), "r")) {
                std::fclose(fp);
                continue;
            }
            util::msg_warn("error opening chain file: {}: {}", f, std::strerror(errno));
            tls_on = false;
            break;
        }
    }
    setup.bad_protocols = !tls::parse_protocols(o.protocols);
    if (tls_on) {
        tls::mgr_use_memory_cache(o.reconnect >= 0);
        tls::ContextSettings cs = tls::settings_from_config(cfg, tls::Role::kClient, "smtp");
        cs.loglevel = o.logopts;
        cs.log_mask = tls::log_mask("-L option", o.logopts);
        cs.cert_file = o.certfile;
        cs.key_file = o.keyfile;
        cs.eccert_file = cs.eckey_file = cs.dcert_file = cs.dkey_file = "";
        cs.chain_files = o.chains;
        cs.CAfile = use_anchors ? o.trust_anchors.front() : o.CAfile;
        cs.CApath = use_anchors ? std::string() : o.CApath;
        cs.protocols = setup.bad_protocols ? std::string(">=TLSv1") : o.protocols;
        cs.cipher_grade = o.grade;
        cs.cipher_exclusions.clear();
        cs.fingerprint_digest = setup.mdalg;
        cs.verify_depth = 9;
        cs.cache_type = "memory";
        setup.tls = tls::make_context(cs);
    }

    if (o.args.empty()) ptf::usage(util::msg_program().c_str());

    // The match arguments, as the level in effect reads them.
    std::vector<std::string> matches(o.args.begin() + 1, o.args.end());
    switch (o.level) {
    case tls::Level::kDane:
    case tls::Level::kDaneOnly:
    case tls::Level::kSecure:
        setup.match = matches;
        if (setup.match.empty()) setup.match = {"nexthop", "dot-nexthop"};
        break;
    case tls::Level::kVerify:
        setup.match = matches;
        if (setup.match.empty()) setup.match = {"hostname"};
        break;
    case tls::Level::kFingerprint:
        for (const auto& m : matches) {
            if (md5_note)
                util::msg_info("using backwards-compatible default setting smtp_tls_fingerprint_digest=md5 "
                               "to compute certificate fingerprints");
            for (auto v : util::split_tokens(m, ", \t\r\n")) {
                if (v.size() > 3 * 64) util::msg_warn("malformed fingerprint value: {:.100}...", v);
                else if (!valid_fingerprint(v)) util::msg_warn("malformed fingerprint value: {:.384}", v);
                else setup.fingerprints.emplace_back(v);
            }
        }
        break;
    default:
        if (!matches.empty())
            util::msg_warn("TLS level '{}' does not implement certificate matching", tls::level_name(o.level));
        break;
    }

    // Never talk to a remote system as root.
    if (::geteuid() == 0) {
        auto account = util::lookup_account(cfg.get("mail_owner"));
        if (!account) util::msg_fatal("{}", account.error());
        char cwd[PATH_MAX];
        std::string here = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
        if (auto r = util::drop_privileges(account->uid, account->gid, "", here); !r) util::msg_fatal("{}", r.error());
    }

    std::string chain;
    ptf::run(o, cfg, setup, chain);
    if (!chain.empty()) (void)!::write(1, chain.data(), chain.size());
    return 0;
}
