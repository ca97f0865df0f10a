// Fuzz harness: the haproxy PROXY header parser (src/mail/haproxy.cpp) on
// arbitrary bytes, with each combination of enabled address families; a
// header it accepts must fit in what it was given and name printable
// addresses and decimal ports.
#include "mail/haproxy.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const pf::mail::HaproxyFamilies families[] = {{true, true}, {true, false}, {false, true}};
    for (auto f : families) {
        pf::mail::HaproxyEndpoints ep;
        std::size_t used = 0;
        if (pf::mail::haproxy_parse(bytes, f, &used, ep) != nullptr) continue;
        if (used == 0 || used > size) __builtin_trap();
        if (ep.non_proxy) continue;
        for (const auto* port : {&ep.client_port, &ep.server_port})
            if (port->empty() || port->size() > 5 || port->find_first_not_of("0123456789") != std::string::npos)
                __builtin_trap();
        for (const auto* addr : {&ep.client_addr, &ep.server_addr})
            if (addr->empty() || addr->size() > 45 || addr->find_first_not_of("0123456789abcdef.:") != std::string::npos)
                __builtin_trap();
    }
    return 0;
}
