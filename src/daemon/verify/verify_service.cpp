// verify(8) requests (verify_service.h).
#include "daemon/verify/verify_service.h"

#include "util/msg.h"

namespace pf::verify {

namespace {

ipc::AttrList status_only(ipc::VerifyStatus status) {
    ipc::AttrList reply;
    reply.add("status", static_cast<long long>(status));
    return reply;
}

}  // namespace

ipc::AttrList VerifyService::handle(const ipc::AttrList& request) {
    std::string_view req = request.get("request").value_or("");
    auto address = request.get("address");
    if (req == ipc::kVerifyRequestQuery && address) {
        QueryOutcome out = cache_.query(*address);
        ipc::AttrList reply;
        reply.add("status", static_cast<long long>(ipc::VerifyStatus::kOk))
            .add("addr_status", static_cast<long long>(out.answer.status))
            .add("reason", out.answer.reason);
        if (out.send_probe) {
            if (util::msg_verbose) util::msg_info("PROBE {}", *address);
            if (probe_) probe_(*address);
        }
        return reply;
    }
    if (req == ipc::kVerifyRequestUpdate && address) {
        auto status = request.get_number("addr_status");
        auto reason = request.get("reason");
        if (!status || !reason) return status_only(ipc::VerifyStatus::kBad);
        if (*status < 0 || *status > static_cast<long long>(ipc::RecipientStatus::kBounce) ||
            !cache_.update(*address, static_cast<int>(*status), *reason)) {
            util::msg_warn("bad recipient status {} for recipient {}", *status, *address);
            return status_only(ipc::VerifyStatus::kBad);
        }
        return status_only(ipc::VerifyStatus::kOk);
    }
    util::msg_warn("unrecognized request: \"{}\", ignored", req);
    return status_only(ipc::VerifyStatus::kBad);
}

}  // namespace pf::verify
