// Fuzzes the master.cf reader with arbitrary bytes.
#include "config/master_cf.h"
#include "util/msg.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool init = [] {
        pf::util::msg_fatal_throws(true);
        pf::util::msg_set_quiet(true);
        return true;
    }();
    (void)init;
    try {
        auto entries = pf::config::parse_master_cf(std::string_view(reinterpret_cast<const char*>(data), size), "master.cf");
        (void)entries;
    } catch (const pf::util::FatalError&) {
    }
    return 0;
}
