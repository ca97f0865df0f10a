// libFuzzer harness: the SMTP-side parsers
// that have no harness in tests/fuzz: server reply lines and multi-line
// replies as the smtp client collects them, EHLO keyword lists, xtext,
// ESMTP parameters and DSN values, the Dovecot auth protocol answers, TLS
// ticket keys and hex, and the line reader of smtp_stream over a socketpair.
// The first byte chooses the parser.
#include "smtp/esmtp_params.h"
#include "smtp/smtp_client_reply.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_stream.h"
#include "smtp/xtext.h"
#include "sasl/dovecot_protocol.h"
#include "tls/tls_scache.h"

#include <sys/socket.h>
#include <unistd.h>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace pf;

static void each_line(std::string_view in, auto&& f) {
    while (!in.empty()) {
        auto nl = in.find('\n');
        std::string_view line = in.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        f(line);
        if (nl == std::string_view::npos) break;
        in.remove_prefix(nl + 1);
    }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    int which = data[0] % 7;
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (which) {
    case 0: {
        smtp::ClientReplyBuilder b;
        each_line(in, [&](std::string_view l) {
            (void)smtp::parse_reply_line(l);
            (void)smtp::enhanced_status_length(l);
            b.add_line(l);
        });
        auto r = b.finish();
        (void)r.one_line();
        (void)smtp::parse_ehlo_features(in);
        (void)smtp::format_reply(250, in);
        (void)smtp::format_reply(550, "5.1.1", in);
        break;
    }
    case 1: {
        auto d = smtp::xtext_decode(in);
        auto e = smtp::xtext_encode(in);
        auto back = smtp::xtext_decode(e);
        if (!back || *back != in) std::abort();
        if (d) (void)smtp::xtext_encode(*d);
        break;
    }
    case 2:
        each_line(in, [&](std::string_view l) {
            auto p = smtp::parse_esmtp_param(l);
            (void)smtp::parse_dsn_notify(p.value);
            (void)smtp::parse_dsn_ret(p.value);
            (void)smtp::parse_size(p.value);
            (void)smtp::parse_dsn_notify(l);
            (void)smtp::parse_size(l);
        });
        break;
    case 3: {
        sasl::dovecot::Handshake h;
        each_line(in, [&](std::string_view l) {
            (void)h.feed(l);
            (void)sasl::dovecot::parse_answer(l);
            (void)sasl::dovecot::security_options(l);
            (void)sasl::dovecot::base64_chars_only(l);
        });
        (void)sasl::dovecot::mechanism_list(h.mechanisms(), 0);
        (void)sasl::dovecot::mechanism_list(h.mechanisms(), sasl::dovecot::kNoPlaintext);
        break;
    }
    case 4: {
        (void)tls::TicketKey::parse(in);
        if (auto d = tls::hex_decode(in)) (void)tls::hex_encode(*d);
        break;
    }
    default: {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
        std::size_t limit = in.empty() ? 0 : static_cast<unsigned char>(in[0]) % 64;
        bool skip = which == 6;
        if (!in.empty()) in.remove_prefix(1);
        // Small inputs fit in the socket buffer: write all, close, then read.
        if (in.size() > 60000) in = in.substr(0, 60000);
        std::size_t off = 0;
        while (off < in.size()) {
            ssize_t n = ::write(sv[0], in.data() + off, in.size() - off);
            if (n <= 0) std::abort();
            off += static_cast<std::size_t>(n);
        }
        ::close(sv[0]);
        smtp::SmtpStream s(sv[1], 2);
        for (int i = 0; i < 100000; ++i) {
            if (limit % 5 == 4) {
                auto r = s.read_exact(limit, [](std::string_view) {});
                if (!r) break;
                continue;
            }
            (void)s.input_pending();
            auto l = s.read_line(limit, skip);
            if (!l) break;
        }
        ::close(sv[1]);
        break;
    }
    }
    return 0;
}
