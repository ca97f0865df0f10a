// bounce(8) append requests (bounce_append_service.h).
#include "bounce_append_service.h"

#include "bounce_params.h"

#include "config/mail_params.h"
#include "mail/address_quote.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/unique_fd.h"
#include "util/write_all.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::bounce {

namespace {

constexpr int kLockTries = 5;

bool service_dir_ok(std::string_view name) {
    if (name.empty() || name.size() > 100) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

// mkdir -p for the hash directories of path (relative, "dir/A/B/id").
void make_parent_dirs(const std::string& path) {
    for (std::size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
        std::string dir = path.substr(0, pos);
        if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return;
    }
}

using Fd = util::UniqueFd;

}  // namespace

std::string format_log_record(const ipc::BounceAppendRequest& r, bool old_format_line) {
    const auto& rcpt = r.recipient;
    const auto& dsn = r.dsn;
    std::string quoted = rcpt.address.empty() ? std::string() : mail::quote_822_local(rcpt.address);
    std::string out = "\n";
    if (old_format_line) out += fmt::format("<{}>: {}\n", quoted, dsn.reason);
    out += fmt::format("recipient={}\n", rcpt.address.empty() ? std::string("<>") : quoted);
    if (!rcpt.orig_addr.empty() && !util::iequals(rcpt.address, rcpt.orig_addr))
        out += fmt::format("original_recipient={}\n", mail::quote_822_local(rcpt.orig_addr));
    if (rcpt.offset > 0) out += fmt::format("offset={}\n", rcpt.offset);
    if (!rcpt.dsn_orcpt.empty()) out += fmt::format("dsn_orig_rcpt={}\n", rcpt.dsn_orcpt);
    if (rcpt.dsn_notify != 0) out += fmt::format("notify_flags={}\n", rcpt.dsn_notify);
    if (!dsn.status.empty()) out += fmt::format("status={}\n", dsn.status);
    if (!dsn.action.empty()) out += fmt::format("action={}\n", dsn.action);
    if (!dsn.dtype.empty() && !dsn.dtext.empty()) out += fmt::format("diag_type={}\ndiag_text={}\n", dsn.dtype, dsn.dtext);
    if (!dsn.mtype.empty() && !dsn.mname.empty()) out += fmt::format("mta_type={}\nmta_mname={}\n", dsn.mtype, dsn.mname);
    if (!dsn.reason.empty()) out += fmt::format("reason={}\n", dsn.reason);
    out += "\n";
    return out;
}

std::expected<void, std::string> append_log_record(const queue::QueueLayout& layout, std::string_view service,
                                                   const ipc::BounceAppendRequest& request, bool old_format_line) {
    if (!service_dir_ok(service) || !queue::is_queue_id(request.queue_id))
        return std::unexpected(fmt::format("bad log file name: {} {}", service, request.queue_id));
    std::string path = layout.path(service, request.queue_id, true);
    int raw = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (raw < 0 && errno == ENOENT) {
        make_parent_dirs(path);
        raw = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    }
    if (raw < 0) return std::unexpected(fmt::format("open file {} {}: {}", service, request.queue_id, std::strerror(errno)));
    Fd fd(raw);
    int tries = 0;
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || ++tries >= kLockTries)
            return std::unexpected(fmt::format("lock file {} {}: {}", service, request.queue_id, std::strerror(errno)));
        ::sleep(1);
    }
    off_t orig_length = ::lseek(fd.get(), 0, SEEK_END);
    if (orig_length < 0)
        return std::unexpected(fmt::format("seek file {} {}: {}", service, request.queue_id, std::strerror(errno)));
    std::string record = format_log_record(request, old_format_line);
    if (!util::write_all(fd.get(), record) || ::fsync(fd.get()) < 0) {
        int err = errno;
        if (::ftruncate(fd.get(), orig_length) < 0)
            return std::unexpected(fmt::format("truncate file {} {}: {}", service, request.queue_id, std::strerror(errno)));
        return std::unexpected(fmt::format("append file {} {}: {}", service, request.queue_id, std::strerror(err)));
    }
    if (::close(fd.release()) < 0) util::msg_warn("append file {} {}: {}", service, request.queue_id, std::strerror(errno));
    return {};
}

}  // namespace pf::bounce
