// Fuzzes the main.cf reader (logical lines, name = value) with arbitrary bytes.
#include "config/main_cf.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    try {
        auto cf = pf::config::MainCf::parse(pf::fuzz::as_text(data, size), "main.cf");
        for (const auto& a : cf.entries()) (void)cf.find(a.name);
    } catch (const pf::util::FatalError&) {
    }
    return 0;
}
