// Posting notices through cleanup; see bounce_post.h.
#include "bounce_post.h"

#include "ipc/cleanup_flags.h"
#include "ipc/services.h"
#include "mail/mail_date.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"

#include <sys/time.h>

#include <fmt/core.h>

namespace pf::bounce {

unsigned notice_cleanup_flags(const config::Config& config, int sendopts) {
    unsigned flags = ipc::kCleanupMapOk;
    if (ipc::mail_class_listed(config.get("internal_mail_filter_classes"), "bounce"))
        flags |= ipc::kCleanupFilter | ipc::kCleanupMilter;
    if (ipc::mail_class_listed(config.get("smtputf8_autodetect_classes"), "bounce")) flags |= ipc::kCleanupAutoUtf8;
    if (sendopts & 1) flags |= ipc::kCleanupSmtputf8;
    return flags;
}

std::optional<PostedNotice> PostedNotice::open(const config::Config& config, std::string_view sender,
                                               std::string_view recipient, int sendopts) {
    std::string service = config.get("cleanup_service_name");
    auto client = ipc::CleanupClient::open(".", service, notice_cleanup_flags(config, sendopts));
    if (!client) {
        util::msg_warn("connect to public/{}: {}", service, client.error());
        return std::nullopt;
    }
    PostedNotice notice(std::move(*client));
    struct timeval now;
    ::gettimeofday(&now, nullptr);
    std::string date = mail::mail_date(now.tv_sec);
    notice.put(queue::rec::kTime, fmt::format("{} {}", static_cast<long>(now.tv_sec), static_cast<long>(now.tv_usec)));
    notice.put(queue::rec::kAttr, "log_origin=local");
    notice.put(queue::rec::kAttr, "trace_flags=0");
    notice.put(queue::rec::kFrom, sender);
    notice.put(queue::rec::kRcpt, recipient);
    notice.put(queue::rec::kMessage, "");
    notice.put(queue::rec::kNorm, fmt::format("Received: by {} ({})", config.get("myhostname"), config.get("mail_name")));
    notice.put(queue::rec::kNorm, fmt::format("\tid {}; {}", notice.queue_id(), date));
    notice.put(queue::rec::kNorm, fmt::format("Date: {}", date));
    return notice;
}

void PostedNotice::put(char type, std::string_view data) {
    if (failed_) return;
    if (auto w = client_.write(type, data); !w) failed_ = true;
}

unsigned PostedNotice::close() {
    put(queue::rec::kExtracted, "");
    put(queue::rec::kEnd, "");
    if (failed_) return ipc::kCleanupStatWrite;
    auto reply = client_.finish();
    if (!reply) return ipc::kCleanupStatWrite;
    return reply->status;
}

}  // namespace pf::bounce
