// Fuzzes the main.cf reader (logical lines, name = value) with arbitrary bytes.
#include "config/main_cf.h"
#include "util/msg.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool init = [] {
        pf::util::msg_fatal_throws(true);
        pf::util::msg_set_quiet(true);  // warnings are expected
        return true;
    }();
    (void)init;
    try {
        auto cf = pf::config::MainCf::parse(std::string_view(reinterpret_cast<const char*>(data), size), "main.cf");
        for (const auto& a : cf.entries()) (void)cf.find(a.name);
    } catch (const pf::util::FatalError&) {
    }
    return 0;
}
