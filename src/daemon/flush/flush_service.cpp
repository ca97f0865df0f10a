// Request dispatch of flush(8); see flush_service.h.
#include "daemon/flush/flush_service.h"

#include "queue/queue_file.h"
#include "util/msg.h"
#include "util/strings.h"

#include <string>

namespace pf::flush {

ipc::FlushStatus FlushService::check_site(std::string_view site) const {
    switch (eligible_(site)) {
    case mail::DomainMatch::yes:
        return ipc::FlushStatus::kOk;
    case mail::DomainMatch::no:
        return ipc::FlushStatus::kUnknown;
    case mail::DomainMatch::error:
        break;
    }
    return ipc::FlushStatus::kFail;
}

FlushOutcome FlushService::handle(const ipc::AttrList& request) {
    FlushOutcome out;
    std::string name = request.get_or("request", "");
    if (name == "add") {
        auto site = request.get("site");
        auto queue_id = request.get("queue_id");
        if (!site || !queue_id || !queue::is_queue_id(*queue_id)) return out;
        std::string lower = util::to_lower(*site);
        if (util::msg_verbose) util::msg_info("flush_add_service: site {} queue_id {}", lower, *queue_id);
        out.status = check_site(lower);
        if (out.status == ipc::FlushStatus::kOk) out.status = logs_.add(site_to_name(lower), *queue_id);
    } else if (name == "send_site") {
        auto site = request.get("site");
        if (!site) return out;
        std::string lower = util::to_lower(*site);
        if (util::msg_verbose) util::msg_info("flush_send_service: site {}", lower);
        out.status = check_site(lower);
        if (out.status == ipc::FlushStatus::kOk) out.status = logs_.send(site_to_name(lower), kUnthrottleBefore);
    } else if (name == "send_file") {
        auto queue_id = request.get("queue_id");
        if (!queue_id) return out;
        out.status = logs_.send_file(*queue_id);
    } else if (name == "refresh") {
        out.status = ipc::FlushStatus::kOk;
        out.refresh_max_age = times_.refresh_time;
    } else if (name == "purge") {
        out.status = ipc::FlushStatus::kOk;
        out.refresh_max_age = 0;
    }
    return out;
}

}  // namespace pf::flush
