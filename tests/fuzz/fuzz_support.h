// Shared set-up for the libFuzzer harnesses: fatal errors throw instead of
// exiting, and the expected warnings stay out of the fuzzer's output.
#pragma once

#include "util/msg.h"

#include <cstdint>
#include <string_view>

namespace pf::fuzz {

inline void init_once() {
    static bool done = [] {
        pf::util::msg_fatal_throws(true);
        pf::util::msg_set_quiet(true);
        return true;
    }();
    (void)done;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace pf::fuzz
