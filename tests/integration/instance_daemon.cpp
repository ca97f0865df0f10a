// A test-only daemon for tests/integration/instance.py: a multi-server
// under our master (ipc/mail_server.h). Per connection it reads one line
// and answers: "pid" → "<pid>\n"; "crash" → aborts (killed by signal 6);
// "fail" → exits with status 1; "whoami" → "<euid> <queue_directory>
// jailed|free"; anything else (a wakeup "W") is logged
// as "got: <line>" and answered "? <line>\n". With
// "-o pf_test_fatal_at_start=yes" in master.cf it is fatal at start-up
// (to make master throttle the service).
//
// Trust: test traffic only; lines are bounded.
#include "ipc/mail_server.h"
#include "util/msg.h"

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {

pf::ipc::ServerContext* g_ctx = nullptr;

bool on_client(pf::ipc::ServerContext&, int fd) {
    std::string line;
    char c;
    while (line.size() < 256 && ::read(fd, &c, 1) == 1 && c != '\n') line += c;
    std::string reply;
    if (line == "pid") {
        reply = std::to_string(::getpid()) + "\n";
    } else if (line == "whoami") {
        // uid, the queue_directory it sees, whether /maildrop is there (it
        // is when the daemon's root is the queue).
        reply = std::to_string(::geteuid()) + " " + g_ctx->config.get("queue_directory") + " " +
                (::access("/maildrop", F_OK) == 0 ? "jailed" : "free") + "\n";
    } else if (line == "crash") {
        std::abort();
    } else if (line == "fail") {
        pf::util::msg_warn("asked to fail");
        std::exit(1);
    } else {
        pf::util::msg_info("got: {}", line);
        reply = "? " + line + "\n";
    }
    (void)!::write(fd, reply.data(), reply.size());
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    pf::ipc::ServerHooks hooks;
    hooks.takes_args = true;  // "fatal-at-start"
    hooks.post_init = [](pf::ipc::ServerContext& ctx) {
        g_ctx = &ctx;
        for (const auto& a : ctx.args)
            if (a == "fatal-at-start") pf::util::msg_fatal("told to fail at start-up");
        pf::util::msg_info("test daemon {} ready", ctx.service_name);
    };
    return pf::ipc::run_multi_server(argc, argv, std::move(hooks), on_client);
}
