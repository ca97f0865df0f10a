// Fuzzes the master.cf reader with arbitrary bytes.
#include "config/master_cf.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    try {
        auto entries = pf::config::parse_master_cf(pf::fuzz::as_text(data, size), "master.cf");
        (void)entries;
    } catch (const pf::util::FatalError&) {
    }
    return 0;
}
