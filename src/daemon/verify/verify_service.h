// The request handling of verify(8), apart from the process skeleton so
// that tests drive it directly: one attribute request in, one reply out
// (the protocol is in ipc/verify_client.h), probes through a callback.
//
// Trust: requests come from local processes that can reach
// private/verify; an unknown request or bad status is answered with
// status -2 and a warning, as the reference does.
#pragma once

#include "daemon/verify/verify_cache.h"
#include "ipc/attr.h"

#include <functional>
#include <string_view>

namespace pf::verify {

class VerifyService {
public:
    using ProbeCall = std::function<void(std::string_view address)>;
    VerifyService(VerifyCache& cache, ProbeCall probe) : cache_(cache), probe_(std::move(probe)) {}

    ipc::AttrList handle(const ipc::AttrList& request);

private:
    VerifyCache& cache_;
    ProbeCall probe_;
};

}  // namespace pf::verify
