// postlogd(8): the logging service behind maillog_file. Every datagram on
// its socket (master.cf "postlog unix-dgram ... 1 postlogd", reached as
// public/postlog) is one log line already formatted by the sender
// (ipc/maillog_client.h); postlogd appends it, with a newline, to
// maillog_file. The file is opened while still root, before the skeleton
// drops privileges. Its own diagnostics go straight into the same file.
//
// Reference behaviour: maillog_file must start with one of
// maillog_file_prefixes (ipc/maillog_client.h: fatal in every program);
// extra master.cf arguments are fatal at start-up; one process (maxproc 1).
//
// Trust: datagrams come from any local process that can reach public/
// (group postdrop and our daemons); a line is written as text, with NUL
// and line breaks replaced, and at most kMaxLine bytes of it.
#include "config/config.h"
#include "ipc/mail_server.h"
#include "ipc/maillog_client.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t kMaxLine = 16384;

int g_log_fd = -1;
std::string g_ident;
std::string g_hostname;

void write_all(std::string_view bytes) {
    if (g_log_fd < 0) return;
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(g_log_fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        done += static_cast<std::size_t>(n);
    }
}

// Appends line, made one line of text, to out.
void append_line(std::string& out, std::string_view line) {
    std::size_t start = out.size();
    out.append(line);
    for (std::size_t i = start; i < out.size(); ++i)
        if (out[i] == '\n' || out[i] == '\0') out[i] = ' ';
    out += '\n';
}

void write_line(std::string_view line) {
    std::string out;
    append_line(out, line);
    write_all(out);
}

void open_log(pf::ipc::ServerContext& ctx) {
    // As the reference's postlogd, at start-up (other daemons stop at their
    // first client: ServerHooks::takes_args).
    if (!ctx.args.empty()) pf::util::msg_fatal("unexpected command-line argument: {}", ctx.args.front());
    // (A maillog_file outside maillog_file_prefixes was fatal already, in
    // the skeleton's maillog_client_init.)
    std::string file = ctx.config.get("maillog_file");
    if (file.empty()) pf::util::msg_fatal("maillog_file is empty: nothing to log into");
    g_log_fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (g_log_fd < 0) pf::util::msg_fatal("open logfile '{}': {}", file, std::strerror(errno));
    std::string host = ctx.config.get("myhostname");
    if (auto dot = host.find('.'); dot != std::string::npos) host.resize(dot);
    g_hostname = host;
    g_ident = ctx.config.get("syslog_name") + "/" + ctx.program_name;
    ctx.max_use = 0;  // every datagram counts as a request: no recycling
    // Our own messages go into the file directly: sending them to our own
    // socket could block on a full buffer.
    pf::util::msg_set_sink([](pf::util::MsgLevel level, std::string_view text) {
        std::string message;
        switch (level) {
        case pf::util::MsgLevel::info: break;
        case pf::util::MsgLevel::warning: message = "warning: "; break;
        case pf::util::MsgLevel::error: message = "error: "; break;
        case pf::util::MsgLevel::fatal: message = "fatal: "; break;
        case pf::util::MsgLevel::panic: message = "panic: "; break;
        }
        message += text;
        write_line(pf::ipc::maillog_format_line(std::time(nullptr), g_hostname, g_ident, ::getpid(), message));
    });
}

bool on_datagram(pf::ipc::ServerContext&, int fd) {
    // Drain what is queued; each datagram is one line. The lines of one
    // drain go out in one write (in their order, before this returns):
    // a write per line was most of this daemon's cost.
    // recvmmsg(2) takes every datagram waiting (up to kBatch) in one call:
    // a lone line costs one receive, not a receive and an empty one.
    constexpr std::size_t kFlushAt = 64 * 1024;
    constexpr unsigned kBatch = 16;
    static std::vector<char> buf(kBatch * (kMaxLine + 1));
    std::string out;
    for (;;) {
        mmsghdr msgs[kBatch];
        iovec iov[kBatch];
        for (unsigned i = 0; i < kBatch; ++i) {
            iov[i] = {buf.data() + i * (kMaxLine + 1), kMaxLine + 1};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int got = ::recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
        if (got < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < got; ++i) {
            const char* line = buf.data() + i * (kMaxLine + 1);
            std::size_t len = std::min<std::size_t>(msgs[i].msg_len, kMaxLine);
            while (len > 0 && line[len - 1] == '\n') --len;
            append_line(out, std::string_view(line, len));
        }
        if (out.size() >= kFlushAt) {
            write_all(out);
            out.clear();
        }
        if (got < static_cast<int>(kBatch)) break;  // nothing more was waiting
    }
    write_all(out);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    pf::ipc::ServerHooks hooks;
    hooks.pre_init = open_log;
    // postlogd lives as long as master: no idle exit.
    hooks.on_idle = [](pf::ipc::ServerContext&) {};
    return pf::ipc::run_multi_server(argc, argv, std::move(hooks), on_datagram);
}
