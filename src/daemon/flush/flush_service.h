// The requests of flush(8) (the protocol is written down in
// ipc/flush_client.h) and the reference's answers:
//   add        site, queue_id  → ok / unknown (site not in
//                                fast_flush_domains) / fail (table error)
//                                / bad (unusable site or queue ID)
//   send_site  site            → the same; sends the site's log after
//                                asking qmgr to forget dead destinations
//   send_file  queue_id        → ok / bad
//   refresh                    → ok at once; then logs unread for
//                                fast_flush_refresh_time are sent and empty
//                                ones unchanged for fast_flush_purge_time
//                                removed (also what master's wakeup does)
//   purge                      → ok at once; then every log is sent
// Anything else, or a request missing its attributes, is "bad". Sites are
// lower-cased before they are matched and mapped to a file name.
//
// Trust: requests come from local clients and, through smtpd's ETRN, from
// remote ones: every value is checked before it touches the file system.
#pragma once

#include "daemon/flush/flush_logs.h"
#include "ipc/attr.h"
#include "mail/address_domain_list.h"

#include <functional>
#include <optional>
#include <string_view>

namespace pf::flush {

struct FlushTimes {
    long refresh_time = 12 * 3600;     // fast_flush_refresh_time
    long purge_time = 7 * 24 * 3600;   // fast_flush_purge_time
};

// What to answer, and the work that follows the answer.
struct FlushOutcome {
    ipc::FlushStatus status = ipc::FlushStatus::kBad;
    std::optional<long> refresh_max_age;  // run refresh(max_age) after replying
};

class FlushService {
public:
    using Eligible = std::function<mail::DomainMatch(std::string_view site)>;

    FlushService(FlushLogs& logs, Eligible eligible, FlushTimes times)
        : logs_(logs), eligible_(std::move(eligible)), times_(times) {}

    FlushOutcome handle(const ipc::AttrList& request);
    // master's periodic wakeup: a refresh.
    FlushOutcome wakeup() const { return {ipc::FlushStatus::kOk, times_.refresh_time}; }
    // The refresh work after the reply.
    void run_refresh(long max_age) { logs_.refresh(max_age, times_.purge_time); }

private:
    // ok, unknown or fail for a lower-cased site.
    ipc::FlushStatus check_site(std::string_view site) const;

    FlushLogs& logs_;
    Eligible eligible_;
    FlushTimes times_;
};

}  // namespace pf::flush
