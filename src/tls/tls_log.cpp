// TLS log features and messages (see tls_log.h).
//
// Trust: configuration text; OpenSSL's error strings are printed as given.
#include "tls/tls_log.h"

#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>
#include <openssl/err.h>

namespace pf::tls {

namespace {

constexpr unsigned kLog1 = kLogSummary;
constexpr unsigned kLog2 = kLog1 | kLogVerbose | kLogCache | kLogDebug;

struct LogName {
    const char* name;
    unsigned mask;
};
const LogName kLogNames[] = {
    {"0", kLogNone},         {"none", kLogNone},          {"1", kLog1},          {"routine", kLog1},
    {"2", kLog2},            {"debug", kLog2},            {"3", kLog2},          {"ssl-expert", kLog2},
    {"4", kLog2},            {"ssl-developer", kLog2},    {"summary", kLogSummary}, {"untrusted", kLogUntrusted},
    {"peercert", kLogPeerCert}, {"certmatch", kLogCertMatch}, {"verbose", kLogVerbose}, {"cache", kLogCache},
    {"ssl-debug", kLogDebug},
};

}  // namespace

unsigned log_mask(std::string_view param, std::string_view value) {
    unsigned mask = 0;
    std::size_t i = 0;
    const std::string_view seps = ", \t\r\n";
    while (i < value.size()) {
        while (i < value.size() && seps.find(value[i]) != std::string_view::npos) ++i;
        if (i >= value.size()) break;
        std::size_t start = i;
        while (i < value.size() && seps.find(value[i]) == std::string_view::npos) ++i;
        std::string_view word = value.substr(start, i - start);
        bool found = false;
        for (const auto& n : kLogNames)
            if (util::iequals(word, n.name)) {
                mask |= n.mask;
                found = true;
                break;
            }
        if (!found) {
            // As the reference: the whole value counts for nothing then.
            util::msg_warn("unknown {} value \"{}\" in \"{}\"", param, word, value);
            return 0;
        }
    }
    return mask;
}

void print_errors() {
    const char* file = nullptr;
    const char* data = nullptr;
    int line = 0;
    int flags = 0;
    unsigned long err;
    while ((err = ERR_get_error_all(&file, &line, nullptr, &data, &flags)) != 0) {
        char buffer[1024];
        ERR_error_string_n(err, buffer, sizeof buffer);
        if ((flags & ERR_TXT_STRING) && data)
            util::msg_warn("TLS library problem: {}:{}:{}:{}:", buffer, file ? file : "", line, data);
        else
            util::msg_warn("TLS library problem: {}:{}:{}:", buffer, file ? file : "", line);
    }
}

std::string signature_details(const HandshakeSummary& s) {
    std::string out;
    if (!s.kex_name.empty()) {
        out += fmt::format(" key-exchange {}", s.kex_name);
        if (!s.kex_curve.empty()) out += fmt::format(" ({})", s.kex_curve);
        else if (s.kex_bits > 0) out += fmt::format(" ({} bits)", s.kex_bits);
    }
    if (!s.srvr_sig_name.empty()) {
        out += fmt::format(" server-signature {}", s.srvr_sig_name);
        if (!s.srvr_sig_curve.empty()) out += fmt::format(" ({})", s.srvr_sig_curve);
        else if (s.srvr_sig_bits > 0) out += fmt::format(" ({} bits)", s.srvr_sig_bits);
        if (!s.srvr_sig_dgst.empty()) out += fmt::format(" server-digest {}", s.srvr_sig_dgst);
    }
    if (!s.clnt_sig_name.empty()) {
        out += fmt::format(" client-signature {}", s.clnt_sig_name);
        if (!s.clnt_sig_curve.empty()) out += fmt::format(" ({})", s.clnt_sig_curve);
        else if (s.clnt_sig_bits > 0) out += fmt::format(" ({} bits)", s.clnt_sig_bits);
        if (!s.clnt_sig_dgst.empty()) out += fmt::format(" client-digest {}", s.clnt_sig_dgst);
    }
    return out;
}

}  // namespace pf::tls
