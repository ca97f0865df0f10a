// Writing one message into a Maildir, as the reference's local(8) and
// virtual(8) do it: the file is created as tmp/<time>.P<pid>.<host> (mode
// 0600, O_EXCL; a missing tmp/ is made with its parents, mode 0700), the
// message copied and synced, then hard-linked as
// new/<time>.V<dev>I<ino>M<usec>.<host> (missing cur/ and new/ are made
// only when that link fails with ENOENT) and the tmp/ name removed.
// Failures: mbox_dsn(errno, "4.2.0") "create maildir file <path>:
// <errno>" for the create and the link, the copy's own texts otherwise;
// the agent prepends "maildir delivery failed: ".
//
// Runs entirely with the caller's effective identity (the recipient).
// Trust: see mailbox.h; the directory tree is hostile (O_EXCL and link()
// never follow a symlink at the final name).
#include "mailbox/mailbox.h"
#include "mailbox/mailbox_copy.h"
#include "mailbox/mailbox_guards.h"
#include "mailbox/safe_open.h"

#include "util/msg.h"
#include "util/process_id.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::mailbox {

namespace {

// mkdir -p with the given mode for every missing component.
int make_dirs(const std::string& path, mode_t mode) {
    std::string partial;
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t slash = path.find('/', pos);
        if (slash == std::string::npos) slash = path.size();
        partial = path.substr(0, slash);
        pos = slash + 1;
        if (partial.empty()) continue;
        struct stat st {};
        if (::stat(partial.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                return -1;
            }
            continue;
        }
        if (errno != ENOENT) return -1;
        if (::mkdir(partial.c_str(), mode) < 0 && errno != EEXIST) return -1;
    }
    return 0;
}

MailboxResult create_failure(const std::string& path, int e) {
    MailboxResult r;
    r.failure = MailboxFailure::open;
    r.error_number = e;
    r.dsn = ipc::Dsn::simple(mbox_dsn(e, "4.2.0"), fmt::format("create maildir file {}: {}", path, std::strerror(e)));
    return r;
}

}  // namespace

MailboxResult deliver_to_maildir(const MaildirTarget& target, const MessageSource& message) {
    FileSizeLimit limit(target.size_limit);
    struct timeval start {};
    ::gettimeofday(&start, nullptr);
    const std::string& base = target.directory;
    const std::string tmpdir = base + "tmp/";
    const std::string newdir = base + "new/";
    const std::string curdir = base + "cur/";
    const std::string tmpfile =
        fmt::format("{}{}.P{}.{}", tmpdir, static_cast<unsigned long>(start.tv_sec), util::current_pid(), target.hostname);

    auto open_tmp = [&] {
        return Fd(::open(tmpfile.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    };
    Fd fd = open_tmp();
    if (!fd && (errno != ENOENT || make_dirs(tmpdir, 0700) < 0 || !(fd = open_tmp())))
        return create_failure(tmpfile, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) util::msg_fatal("fstat {}: {}", tmpfile, std::strerror(errno));
    const std::string newfile = fmt::format("{}{}.V{:x}I{:x}M{}.{}", newdir, static_cast<unsigned long>(start.tv_sec),
                                            static_cast<unsigned long>(st.st_dev), static_cast<unsigned long>(st.st_ino),
                                            static_cast<unsigned long>(start.tv_usec), target.hostname);
    MailboxResult result = copy_to_file(fd.get(), 0, message, false);
    if (fd.close() < 0 && result.delivered) {
        int e = errno;
        result = MailboxResult{};
        result.failure = MailboxFailure::write;
        result.error_number = e;
        result.dsn = ipc::Dsn::simple(mbox_dsn(e, "5.3.0"), fmt::format("error writing message: {}", std::strerror(e)));
        result.dsn.dtype = "x-unix";
        result.dsn.dtext = "input/output error";
    }
    if (result.delivered) {
        if (::link(tmpfile.c_str(), newfile.c_str()) < 0 &&
            (errno != ENOENT || (make_dirs(curdir, 0700), make_dirs(newdir, 0700)) < 0 ||
             ::link(tmpfile.c_str(), newfile.c_str()) < 0)) {
            result = create_failure(newfile, errno);
        }
    }
    int saved = errno;
    if (::unlink(tmpfile.c_str()) < 0) util::msg_warn("remove {}: {}", tmpfile, std::strerror(errno));
    errno = saved;
    return result;
}

}  // namespace pf::mailbox
