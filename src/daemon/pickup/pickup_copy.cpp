// pickup(8)'s copy of maildrop files to cleanup: see pickup_copy.h.
#include "daemon/pickup/pickup_copy.h"

#include "ipc/cleanup_flags.h"
#include "ipc/services.h"
#include "mail/mail_date.h"
#include "mail/address_quote.h"
#include "queue/queue_file.h"
#include "queue/queue_file_reader.h"
#include "util/msg.h"
#include "util/strings.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>
#include <optional>
#include <vector>

namespace pf::pickup {
namespace {

namespace rec = queue::rec;

constexpr long kDaySeconds = 86400;
constexpr long kHourSeconds = 3600;

struct FileInfo {
    std::string path;
    struct stat st;
    std::string id;                    // cleanup's queue ID
    std::optional<std::string> sender;
};

Disposition read_error(const FileInfo& info, int type) {
    util::msg_warn("uid={}: unexpected or malformed record type {}", static_cast<long>(info.st.st_uid), type);
    return Disposition::remove;
}

Disposition cleanup_error(const FileInfo& info, unsigned status, std::string_view reason) {
    if (reason.empty())
        util::msg_warn("{}: error writing {}: {}", info.path, info.id, ipc::cleanup_strerror(status));
    return (status & (ipc::kCleanupStatBad | ipc::kCleanupStatRcpt)) ? Disposition::remove : Disposition::keep;
}

bool is_dsn_attribute(std::string_view data) {
    auto eq = data.find('=');
    std::string_view name = util::trim(data.substr(0, eq));
    return name == "dsn_orig_rcpt" || name == "notify_flags" || name == "envelope_id" || name == "ret_flags" ||
           name == "create_time";
}

// Copies records up to the segment's terminator (not sent). nullopt when
// all went well.
std::optional<Disposition> copy_segment(queue::RecordReader& reader, ipc::CleanupClient& cleanup, FileInfo& info,
                                        std::string_view expected, const PickupSettings& settings) {
    const bool content = expected.front() == 'X';
    const bool extracted = expected.front() == 'E';
    bool check_first = content;
    bool time_seen = false;
    std::string data;
    for (;;) {
        int type = reader.get(data, queue::kReadDefault, settings.line_limit);
        if (type < 0 || expected.find(static_cast<char>(type)) == std::string_view::npos)
            return read_error(info, type);
        if (util::msg_verbose) util::msg_info("{}: read {} {}", info.id, static_cast<char>(type), data);
        if (type == expected.front()) break;
        if (type == rec::kFrom) {
            if (!info.sender) info.sender = data;
            if (!time_seen && !cleanup.write(rec::kTime, std::to_string(static_cast<long>(info.st.st_mtime))))
                return cleanup_error(info, ipc::kCleanupStatWrite, "");
        }
        if (type == rec::kTime) time_seen = true;
        if (!content) {
            if (type == rec::kFilter || type == rec::kRedirect) continue;  // dropped after "postsuper -r"
        }
        if (extracted) {
            if (type == rec::kReturnReceipt || type == rec::kErrorsTo) continue;
            if (type == rec::kAttr && !is_dsn_attribute(data)) continue;
        }
        if (check_first && (type == rec::kNorm || type == rec::kCont)) {
            check_first = false;
            // Content that starts with a blank would continue our Received:.
            if (!data.empty() && (data[0] == ' ' || data[0] == '\t') && !cleanup.write(rec::kNorm, ""))
                return cleanup_error(info, ipc::kCleanupStatWrite, "");
        }
        if (!cleanup.write(static_cast<char>(type), data)) return cleanup_error(info, ipc::kCleanupStatWrite, "");
    }
    return std::nullopt;
}

Disposition pickup_copy(queue::RecordReader& reader, ipc::CleanupClient& cleanup, FileInfo& info,
                        const PickupSettings& settings, std::time_t now) {
    if (info.st.st_mtime > now + 2 * kHourSeconds) {
        util::msg_warn("{}: message dated {} seconds into the future", info.id, static_cast<long>(info.st.st_mtime - now));
        info.st.st_mtime = now;
    } else if (info.st.st_mtime < now - kDaySeconds) {
        util::msg_warn("{}: message has been queued for {} days", info.id,
                       static_cast<int>((now - info.st.st_mtime) / kDaySeconds));
    }
    auto put = [&](char type, std::string_view data) { return cleanup.write(type, data).has_value(); };
    if (!settings.content_filter.empty() && !put(rec::kFilter, settings.content_filter))
        return cleanup_error(info, ipc::kCleanupStatWrite, "");
    if (auto r = copy_segment(reader, cleanup, info, queue::kEnvelopeTypes, settings)) return *r;
    if (!info.sender) {
        util::msg_warn("{}: uid={}: no envelope sender", info.id, static_cast<long>(info.st.st_uid));
        return Disposition::remove;
    }
    const bool requeued = info.st.st_uid == settings.mail_owner_uid && (info.st.st_mode & S_IROTH) == 0;
    if (requeued) {
        auto slash = info.path.rfind('/');
        util::msg_info("{}: uid={} from=<{}> orig_id={}", info.id, static_cast<int>(info.st.st_uid),
                       mail::address_for_log(*info.sender),
                       slash == std::string::npos ? info.path : info.path.substr(slash + 1));
    } else {
        util::msg_info("{}: uid={} from=<{}>", info.id, static_cast<int>(info.st.st_uid),
                       mail::address_for_log(*info.sender));
    }
    if (!put(rec::kMessage, "") ||
        !put(rec::kNorm, fmt::format("Received: by {} ({}, from userid {})", settings.myhostname, settings.mail_name,
                                     static_cast<long>(info.st.st_uid))) ||
        !put(rec::kNorm, fmt::format("\tid {}; {}", info.id, mail::mail_date(info.st.st_mtime))))
        return cleanup_error(info, ipc::kCleanupStatWrite, "");
    if (auto r = copy_segment(reader, cleanup, info, queue::kContentTypes, settings)) return *r;
    if (!put(rec::kExtracted, "")) return cleanup_error(info, ipc::kCleanupStatWrite, "");
    if (auto r = copy_segment(reader, cleanup, info, queue::kExtractedTypes, settings)) return *r;
    if (!put(rec::kEnd, "")) return cleanup_error(info, ipc::kCleanupStatWrite, "");
    auto reply = cleanup.finish();
    if (!reply) return cleanup_error(info, ipc::kCleanupStatWrite, "");
    if (reply->status != 0) return cleanup_error(info, reply->status, reply->reason);
    return Disposition::remove;
}

}  // namespace

unsigned pickup_cleanup_flags(std::string_view receive_override_options, std::string_view autodetect_classes) {
    unsigned flags = ipc::kCleanupBounce | ipc::input_cleanup_flags(receive_override_options);
    if (ipc::mail_class_listed(autodetect_classes, "sendmail")) flags |= ipc::kCleanupAutoUtf8;
    return flags;
}

Disposition pickup_file(const std::string& path, const struct stat& st, const PickupSettings& settings,
                        const CleanupOpener& open_cleanup, std::time_t now) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat fst;
    if (fd >= 0 && (::fstat(fd, &fst) != 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)) {
        ::close(fd);
        util::msg_warn("open input file {}: file was replaced", path);
        return Disposition::remove;
    }
    if (fd < 0) {
        int err = errno;
        if (err != ENOENT) util::msg_warn("open input file {}: {}", path, std::strerror(err));
        if (err == EACCES) {
            util::msg_warn("if this file was created by Postfix < 1.1, then you may have to chmod a+r {}", path);
            return Disposition::keep;
        }
        return Disposition::remove;
    }
    std::FILE* in = ::fdopen(fd, "r");
    if (in == nullptr) {
        ::close(fd);
        return Disposition::keep;
    }
    FileInfo info{path, st, {}, std::nullopt};
    const bool requeued = st.st_uid == settings.mail_owner_uid && (st.st_mode & S_IROTH) == 0;
    unsigned flags = settings.cleanup_flags;
    if (requeued) flags &= ~ipc::kCleanupMilter;
    Disposition result = Disposition::keep;
    if (auto cleanup = open_cleanup(flags)) {
        info.id = cleanup->queue_id();
        queue::RecordReader reader(in, path);
        result = pickup_copy(reader, *cleanup, info, settings, now);
    } else {
        util::msg_warn("{}: {}", path, cleanup.error());
    }
    std::fclose(in);
    return result;
}

int pickup_scan(const std::string& maildrop_dir, const PickupSettings& settings, const CleanupOpener& open_cleanup) {
    int total = 0;
    for (;;) {
        int removed = 0;
        std::vector<std::string> names;
        if (DIR* dir = ::opendir(maildrop_dir.c_str())) {
            while (struct dirent* e = ::readdir(dir))
                if (queue::is_queue_id(e->d_name)) names.emplace_back(e->d_name);
            ::closedir(dir);
        } else {
            util::msg_fatal("open directory {}: {}", maildrop_dir, std::strerror(errno));
        }
        for (const auto& name : names) {
            std::string path = maildrop_dir + "/" + name;
            struct stat st;
            if (::lstat(path.c_str(), &st) < 0) {
                if (errno != ENOENT) util::msg_warn("{}: {}", path, std::strerror(errno));
                continue;
            }
            if (!S_ISREG(st.st_mode)) {
                util::msg_warn("{}: uid {}: not a regular file", path, static_cast<long>(st.st_uid));
                continue;
            }
            if ((st.st_mode & S_IRWXU) != queue::kModeReady) continue;
            if (st.st_nlink > 1 && st.st_ctime < std::time(nullptr) - 60)
                util::msg_warn("{}: uid {}: file has {} links", path, static_cast<long>(st.st_uid),
                               static_cast<int>(st.st_nlink));
            if (pickup_file(path, st, settings, open_cleanup, std::time(nullptr)) == Disposition::remove) {
                if (::unlink(path.c_str()) != 0) util::msg_warn("remove {}: {}", path, std::strerror(errno));
                else ++removed;
            }
        }
        total += removed;
        if (removed == 0) break;
    }
    return total;
}

}  // namespace pf::pickup
