// Per-destination concurrency windows; see qmgr_queue.h.
#include "daemon/qmgr/qmgr_queue.h"

namespace pf::qmgr {

DestQueue::DestQueue(std::string name, std::string nexthop, const TransportLimits& limits)
    : name_(std::move(name)), nexthop_(std::move(nexthop)), limits_(limits), window_(limits.initial_concurrency) {}

void DestQueue::positive_feedback() {
    fail_cohorts_ = 0;
    if (dead()) {
        dead_reason_.reset();
        window_ = busy > 0 ? busy : limits_.initial_concurrency;
        success_ = failure_ = 0;
        return;
    }
    if (!ready()) return;
    if (limits_.dest_concurrency_limit == 0 || limits_.dest_concurrency_limit > window_) {
        if (window_ < busy + limits_.initial_concurrency) {
            double feedback = limits_.positive.value(window_);
            success_ += feedback;
            int hysteresis = limits_.positive.hysteresis;
            while (success_ + feedback / 2 >= hysteresis) {
                window_ += hysteresis;
                success_ -= hysteresis;
                failure_ = 0;
            }
            if (limits_.dest_concurrency_limit > 0 && window_ > limits_.dest_concurrency_limit)
                window_ = limits_.dest_concurrency_limit;
        }
    }
}

void DestQueue::negative_feedback(const Dsn& reason) {
    if (!ready()) return;
    fail_cohorts_ += 1.0 / window_;
    if (limits_.failed_cohort_limit > 0 && fail_cohorts_ >= limits_.failed_cohort_limit) {
        window_ = kDead;
    } else {
        double feedback = limits_.negative.value(window_);
        failure_ -= feedback;
        int hysteresis = limits_.negative.hysteresis;
        while (failure_ - feedback / 2 < 0) {
            window_ -= hysteresis;
            success_ = 0;
            failure_ += hysteresis;
        }
        if (window_ < 1) window_ = 1;
    }
    if (dead()) dead_reason_ = reason;
}

}  // namespace pf::qmgr
