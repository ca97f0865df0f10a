// local(8) :include: files and $HOME/.forward files, as the reference's
// deliver_include and deliver_dotforward.
//
// :include: — an absolute path, a regular file, not world-writable, read
// with the current delivery rights (a root-owned alias lends the include
// file owner's rights instead); destinations in it are always forwarded
// (never delivered directly). Failures bounce 5.3.5 "mail system
// configuration error" with the reference's warnings.
//
// .forward — the first forward_path entry that expands cleanly and
// exists (lstat as the user) is used; it must be a regular file owned by
// the user (or root) and not world-writable, else it is ignored with a
// warning and the mailbox gets the mail. The user's rights apply to its
// commands and files; NOTIFY loses SUCCESS on the way down and the
// recipient reports "alias expanded" itself.
//
// Trust: file contents are user input; files are opened with the user's
// effective ids so a user cannot read what they could not read anyway.
#include "local.h"

#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace pf::local {

namespace {

constexpr std::size_t kFileLimit = 1u << 20;

// Reads a whole file opened as (uid, gid); errno text on failure.
std::expected<std::string, int> read_as(const std::string& path, uid_t uid, gid_t gid) {
    set_eugid(uid, gid);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    int saved = errno;
    std::string data;
    if (fd >= 0) {
        char buf[8192];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            data.append(buf, static_cast<std::size_t>(n));
            if (data.size() > kFileLimit) break;
        }
        ::close(fd);
    }
    set_eugid(0, 0);
    if (fd < 0) return std::unexpected(saved);
    return data;
}

int stat_as(const std::string& path, struct stat* st, uid_t uid, gid_t gid, bool link) {
    set_eugid(uid, gid);
    int rc = link ? ::lstat(path.c_str(), st) : ::stat(path.c_str(), st);
    int saved = errno;
    set_eugid(0, 0);
    errno = saved;
    return rc;
}

}  // namespace

int deliver_include(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& path) {
    attr.level++;
    auto config_error = [&](std::string warning) {
        util::msg_warn("{}", warning);
        return record_bounce(ctx, attr, ipc::Dsn::simple("5.3.5", "mail system configuration error"));
    };
    if (ctx.been_here(fmt::format("include {} {}", static_cast<long>(usr.uid), path))) return 0;
    attr.exp_from = attr.local;

    int status;
    if (path.empty() || path[0] != '/') {
        status = config_error(fmt::format(":include:{} uses a relative path", path));
        restore_eugid(ctx.settings);
        return status;
    }
    struct stat st;
    if (stat_as(path, &st, usr.uid, usr.gid, false) < 0) {
        int saved = errno;
        restore_eugid(ctx.settings);
        return config_error(fmt::format("unable to lookup :include: file {}: {}", path, std::strerror(saved)));
    }
    restore_eugid(ctx.settings);
    if (!S_ISREG(st.st_mode)) return config_error(fmt::format(":include: file {} is not a regular file", path));
    if (st.st_mode & S_IWOTH) return config_error(fmt::format(":include: file {} is world writable", path));

    attr.exp_type = kExpandInclude;
    if (usr.uid == 0) {
        PasswdLookup pw = passwd_by_uid(st.st_uid);
        if (!pw.entry) {
            util::msg_warn("cannot find username for uid {}", static_cast<long>(st.st_uid));
            util::msg_warn("{}: cannot find :include: file owner username", path);
            return record_defer(ctx, attr, ipc::Dsn::simple("4.3.5", "mail system configuration error"));
        }
        if (pw.entry->uid != 0) set_user_attr(usr, *pw.entry);
    }
    if (!attr.owner) attr.owner = attr.rcpt.address;

    auto contents = read_as(path, usr.uid, usr.gid);
    restore_eugid(ctx.settings);
    if (!contents)
        return config_error(fmt::format("cannot open include file {}: {}", path, std::strerror(contents.error())));
    if ((ctx.settings.ext_prop & kPropInclude) == 0) attr.unmatched.reset();
    return deliver_token_lines(ctx, attr, usr, *contents, nullptr);
}

bool deliver_dotforward(Context& ctx, MsgAttr attr, UserAttr usr, int& status) {
    attr.level++;
    if (ctx.settings.forward_path.empty()) return false;
    PasswdLookup pw = passwd_by_name(attr.user);
    if (!pw.entry) return false;

    if (!ctx.settings.frozen_delivered_to) attr.delivered = attr.rcpt.address;
    set_user_attr(usr, *pw.entry);
    attr.exp_type = kExpandForward;
    attr.owner = attr.user;

    status = 0;
    bool forward_found = false;
    std::string path;
    bool exists = false;
    struct stat st;
    for (auto word : util::split_tokens(ctx.settings.forward_path, ", \t\r\n")) {
        LocalExpansion expanded = local_expand(word, attr, usr, ctx.settings.forward_expansion_filter);
        if (expanded.status & (kExpandError | kExpandUndefined)) continue;
        path = expanded.text;
        if (stat_as(path, &st, usr.uid, usr.gid, true) >= 0) {
            exists = true;
            if ((expanded.status & kExpandExtensionMatched) || (ctx.settings.ext_prop & kPropForward) == 0)
                attr.unmatched.reset();
            break;
        }
    }
    restore_eugid(ctx.settings);
    if (!exists) return false;

    if (ctx.request.flags & ipc::kDeliveryMtaVerify) {
        status = record_sent(ctx, attr, ipc::Dsn::simple("2.0.0", fmt::format("forward via file: {}", path)));
        return true;
    }
    if (!ctx.been_here("forward " + path)) {
        attr.exp_from = attr.local;
        if (!S_ISREG(st.st_mode)) {
            util::msg_warn("file {} is not a regular file", path);
        } else if (st.st_uid != 0 && st.st_uid != usr.uid) {
            util::msg_warn("file {} has bad owner uid {}", path, static_cast<long>(st.st_uid));
        } else if (st.st_mode & S_IWOTH) {
            util::msg_warn("file {} is world writable", path);
        } else {
            auto contents = read_as(path, usr.uid, usr.gid);
            restore_eugid(ctx.settings);
            if (!contents) {
                util::msg_warn("cannot open file {}: {}", path, std::strerror(contents.error()));
            } else {
                int count = 0;
                const int saved_notify = attr.rcpt.dsn_notify;
                attr.rcpt.dsn_notify = saved_notify == 2 ? 1 : (saved_notify & ~2);
                status = deliver_token_lines(ctx, attr, usr, *contents, &count);
                if (count > 0) {
                    forward_found = true;
                    ctx.been_here("forward-done " + path);
                    if (status == 0 && (saved_notify & 2)) {
                        MsgAttr report = attr;
                        report.rcpt.dsn_notify = saved_notify;
                        ipc::Dsn dsn = ipc::Dsn::simple("2.0.0", "alias expanded");
                        dsn.action = "expanded";
                        record_trace(ctx, report, dsn);
                    }
                }
            }
        }
    } else if (ctx.been_here_check("forward-done " + path)) {
        forward_found = true;
    }
    return forward_found;
}

}  // namespace pf::local
