// Fuzz harness: smtpd's command tokenizer and whole session state machine
// (greeting, HELO/EHLO, MAIL/RCPT with their parameters, DATA and BDAT
// content, RSET, VRFY, ETRN, XCLIENT/XFORWARD, STARTTLS/AUTH without
// TLS/SASL configured, the error and junk limits, pipelining detection,
// bare LF handling, long lines) driven by arbitrary client bytes, as
// src/daemon/smtpd runs it for one connection: the bytes go in through
// one end of a socketpair, smtpd_session() runs on the other, the replies
// are drained and dropped. The client's input ends with the bytes, so
// the session always ends with "lost connection" or its own QUIT.
//
// Other services: cleanup is a stub (a thread on <tmp>/private/cleanup
// that greets with a queue ID, reads the record stream up to the E record
// and answers "queued"), so DATA and BDAT reach the end of a message;
// trivial-rewrite, anvil, verify, flush and policy services are absent
// (their clients fail as they do when a service cannot be reached).
// The first input byte selects one of a few configurations (SMTPUTF8 off,
// bare LF rejected, XCLIENT/XFORWARD authorised, small limits).
#include "fuzz_support.h"

#include "daemon/smtpd/smtpd_session.h"
#include "ipc/attr.h"
#include "queue/record.h"
#include "util/msg.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace pf;

// The stub cleanup: one connection at a time, in a thread of its own.
void serve_cleanup_client(int fd) {
    (void)ipc::send_attrs(fd, ipc::AttrList{{"status", "0"}, {"queue_id", "4F2A81C0D3"}}, 5);
    std::string buffer;
    auto flags = ipc::receive_attrs(fd, buffer, 5);
    if (!flags) return;
    for (;;) {
        std::size_t used = 0;
        auto rec = queue::decode_record(buffer, 1 << 20, used);
        if (rec) {
            buffer.erase(0, used);
            if (rec->type == queue::rec::kEnd) {
                (void)ipc::send_attrs(fd, ipc::AttrList{{"status", "0"}, {"reason", ""}}, 5);
                return;
            }
            continue;
        }
        if (rec.error() != queue::RecordError::truncated && rec.error() != queue::RecordError::eof) return;
        char tmp[8192];
        ssize_t n = ::read(fd, tmp, sizeof tmp);
        if (n <= 0) return;
        buffer.append(tmp, static_cast<std::size_t>(n));
    }
}

std::string start_cleanup_stub() {
    char dir[] = "/tmp/pf-smtpd-fuzz-XXXXXX";
    if (!::mkdtemp(dir)) std::abort();
    std::string queue(dir);
    std::string priv = queue + "/private";
    ::mkdir(priv.c_str(), 0700);
    std::string path = priv + "/cleanup";
    int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 16) != 0)
        std::abort();
    std::thread([lfd] {
        for (;;) {
            int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            serve_cleanup_client(fd);
            ::close(fd);
        }
    }).detach();
    static std::string cleanup_dir = queue;
    std::atexit([] {
        ::unlink((cleanup_dir + "/private/cleanup").c_str());
        ::rmdir((cleanup_dir + "/private").c_str());
        ::rmdir(cleanup_dir.c_str());
    });
    return queue;
}

struct Variant {
    std::unique_ptr<config::Config> config;
    smtpd::Server server;
};

std::unique_ptr<Variant> make_variant(const std::string& queue, int which) {
    auto v = std::make_unique<Variant>();
    v->config = std::make_unique<config::Config>("/nonexistent");
    auto set = [&](const char* name, const char* value) { v->config->set_override(name, value); };
    set("myhostname", "mail.example.com");
    set("mydomain", "example.com");
    set("mynetworks", "127.0.0.0/8");
    set("queue_directory", queue.c_str());
    set("compatibility_level", "3.6");
    set("smtpd_error_sleep_time", "0");
    set("smtpd_timeout", "2s");
    set("local_recipient_maps", "");
    set("smtpd_policy_service_try_limit", "1");
    switch (which) {
    case 1:
        set("smtputf8_enable", "no");
        set("smtpd_forbid_bare_newline", "reject");
        set("smtpd_discard_ehlo_keywords", "pipelining, dsn, silent-discard");
        break;
    case 2:
        set("smtpd_authorized_xclient_hosts", "127.0.0.0/8");
        set("smtpd_authorized_xforward_hosts", "127.0.0.0/8");
        set("smtpd_forbid_bare_newline", "normalize");
        break;
    case 3:
        set("smtpd_recipient_limit", "3");
        set("smtpd_soft_error_limit", "2");
        set("smtpd_hard_error_limit", "4");
        set("smtpd_junk_command_limit", "3");
        set("message_size_limit", "300");
        set("line_length_limit", "80");
        set("smtpd_helo_required", "yes");
        set("disable_vrfy_command", "yes");
        set("smtpd_delay_reject", "no");
        break;
    default:
        break;
    }
    v->server.config = v->config.get();
    v->server.settings = smtpd::Settings::from_config(*v->config);
    v->server.restrictions = std::make_unique<smtpd::Restrictions>(*v->config);
    return v;
}

std::array<std::unique_ptr<Variant>, 4>& variants() {
    static std::array<std::unique_ptr<Variant>, 4> all = [] {
        std::string queue = start_cleanup_stub();
        std::array<std::unique_ptr<Variant>, 4> a;
        for (int i = 0; i < 4; ++i) a[i] = make_variant(queue, i);
        return a;
    }();
    return all;
}

// Feeds input to the client end and drains the replies until the server
// closes its end.
void client_side(int fd, std::string input) {
    std::size_t sent = 0;
    bool shut = false;
    char buf[16384];
    for (;;) {
        if (!shut && sent == input.size()) {
            ::shutdown(fd, SHUT_WR);
            shut = true;
        }
        pollfd p{fd, static_cast<short>(POLLIN | (shut ? 0 : POLLOUT)), 0};
        if (::poll(&p, 1, 10000) <= 0) break;
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;
        }
        if (!shut && (p.revents & POLLOUT)) {
            ssize_t n = ::write(fd, input.data() + sent, input.size() - sent);
            if (n < 0) {
                ::shutdown(fd, SHUT_WR);
                shut = true;
            } else {
                sent += static_cast<std::size_t>(n);
            }
        }
    }
    ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    if (size == 0 || size > 65536) return 0;
    auto& all = variants();
    Variant& v = *all[data[0] & 3];
    std::string input(pf::fuzz::as_text(data + 1, size - 1));
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
    std::thread client(client_side, fds[1], std::move(input));
    try {
        smtpd::smtpd_session(v.server, fds[0]);
    } catch (const std::exception&) {
        // msg_fatal throws in the harness: a fatal error ends the session.
    }
    ::shutdown(fds[0], SHUT_RDWR);
    client.join();
    ::close(fds[0]);
    return 0;
}
