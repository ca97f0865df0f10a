// showq(8): the queue listing service on public/showq, which postqueue(1)
// -p/-j, mailq(1) and monitoring tools read. It takes no request: on each
// connection it writes the whole listing (showq_report.h, the reference
// 3.7's byte format) and hangs up. Run by hand as "showq -u -S" it writes
// the listing to standard output (postqueue does this as root when the
// mail system is down).
//
// Privileges: runs as mail_owner (master.cf may chroot it); maildrop files
// that only their submitter may read are then skipped with a warning, as
// in the reference.
// Trust: the client is any local user; nothing is read from it.
#include "daemon/showq/showq_report.h"
#include "ipc/mail_server.h"
#include "util/msg.h"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace {

using namespace pf;

showq::ShowqSettings& settings() {
    static showq::ShowqSettings s;
    return s;
}

// Writes everything, waiting at most timeout seconds for a stalled reader.
bool write_all(int fd, std::string_view bytes, int timeout) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p {fd, POLLOUT, 0};
            if (::poll(&p, 1, timeout * 1000) <= 0) return false;
            continue;
        }
        return false;
    }
    return true;
}

bool showq_service(ipc::ServerContext& ctx, int fd) {
    // Stand-alone on stdin: the listing goes to stdout.
    int out_fd = ctx.standalone && fd == 0 ? 1 : fd;
    showq::ShowqOutput out([out_fd](std::string_view bytes) { return write_all(out_fd, bytes, 3600); });
    showq::showq_scan(out, settings());
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    // The reference's daemons write diagnostics to stderr only when it is
    // a terminal; the skeleton also does for -S (tests). postqueue runs us
    // with -S and its user's stderr: keep that quiet from the start, so
    // that not even a main.cf warning lands there.
    if (::isatty(2) == 0) {
        int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_fd >= 0 && null_fd != 2) {
            ::dup2(null_fd, 2);
            ::close(null_fd);
        }
    }
    ipc::ServerHooks hooks;
    hooks.pre_init = [](ipc::ServerContext& ctx) {
        settings() = showq::ShowqSettings::from_config(ctx.config);
        // Warnings go to the mail log only, also when run by hand by
        // postqueue (whose stderr is the user's), unless stderr is a
        // terminal: as the reference's daemons.
        util::msg_set_stderr(::isatty(2) != 0);
    };
    return ipc::run_single_server(argc, argv, std::move(hooks), showq_service);
}
