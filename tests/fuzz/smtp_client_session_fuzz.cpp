// libFuzzer harness: one smtp/lmtp client
// conversation (SmtpSession::deliver) against a hostile server whose whole
// output is the fuzz input: greeting, EHLO/LHLO reply, per-command replies,
// in any shape. The server's bytes are written into a socketpair before the
// session starts and its write side is shut, so the client sees EOF after
// them; what the client sends is never read (small: it fits the buffer).
// The first byte picks the variant: SMTP or LMTP, XFORWARD, probe, DSN,
// 8BITMIME/SMTPUTF8 message, line limits.
#include "daemon/smtp/smtp_session.h"
#include "daemon/smtp/smtp_settings.h"

#include <sys/socket.h>
#include <unistd.h>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <string>

using namespace pf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static bool init = [] { std::signal(SIGPIPE, SIG_IGN); return true; }();
    (void)init;
    if (size < 1 || size > 60000) return 0;
    unsigned v = data[0];
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    smtp_agent::SmtpSettings s;
    s.helo_name = "client.example";
    s.helo_timeout = s.mail_timeout = s.rcpt_timeout = s.data_init_timeout = s.data_done_timeout = 2;
    s.data_xfer_timeout = s.quit_timeout = s.rset_timeout = s.xforward_timeout = 2;
    s.lmtp = v & 1;
    s.send_xforward = v & 2;
    s.skip_quit_response = v & 4;
    s.never_send_ehlo = (v & 0x30) == 0x30;
    s.always_send_ehlo = !(v & 0x10);
    s.skip_5xx_greeting = v & 0x40;
    if (v & 0x80) s.line_limit = 20;
    smtp_agent::SessionMessage m;
    m.sender = (v & 8) ? "" : "sender@example.com";
    m.size = 20;
    m.encoding = (v & 0x20) ? "8BITMIME" : "";
    m.smtputf8 = (v & 0x20) ? smtp_agent::kSmtpUtf8Requested : 0;
    m.dsn_envid = (v & 0x40) ? "env+id" : "";
    m.dsn_ret = (v >> 6) & 3;
    m.trace_only = (v & 0x0c) == 0x0c;
    for (int i = 0; i < 3; ++i)
        m.recipients.push_back({"r" + std::to_string(i) + "@x.test", "rfc822;r@x.test", i == 1 ? 6 : 0});
    m.xforward = {"client.example", "192.0.2.9", "4711", "ESMTP", "helo.example", "", "REMOTE"};
    m.write_content = [](smtp::SmtpStream& st) {
        st.write("Subject: x\r\n\r\n..dot\r\nbody\r\n");
        return st.flush().has_value();
    };
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
    int buf = 1 << 20;
    ::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    ::setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    std::size_t off = 0;
    while (off < in.size()) {
        ssize_t n = ::write(sv[1], in.data() + off, in.size() - off);
        if (n <= 0) std::abort();
        off += static_cast<std::size_t>(n);
    }
    ::shutdown(sv[1], SHUT_WR);
    {
        smtp_agent::SessionPeer peer{"mx.example", "192.0.2.1", 25, false};
        smtp_agent::SmtpSession session(s, peer, sv[0]);
        auto r = session.deliver(m);
        for (auto& e : r.events) (void)e.dsn.reason.size();
    }
    ::close(sv[0]);
    ::close(sv[1]);
    return 0;
}
