// Fuzz harness: postscreen's postscreen_dnsbl_sites entry and reply-filter
// parser, the filter matcher, and dnsblog's DNS answer reader, on
// arbitrary bytes (includes src/daemon/postscreen/postscreen_dnsbl_site.cpp
// and src/daemon/dnsblog/dnsblog_answer.cpp: daemon sources are no library).
#include "daemon/dnsblog/dnsblog_answer.cpp"
#include "daemon/postscreen/postscreen_dnsbl_site.cpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const auto& entry : pf::postscreen::split_dnsbl_sites(text)) {
        auto site = pf::postscreen::parse_dnsbl_site(entry);
        if (site && !site->filter.empty()) {
            (void)site->filter.front().matches(entry);
            (void)site->filter.front().matches("127.0.0.2");
        }
    }
    if (auto f = pf::postscreen::parse_ip_filter(text)) (void)f->matches(text);
    auto answer = pf::dnsblog::parse_a_answer(std::span<const uint8_t>(data, size));
    for (const auto& [addr, ttl] : answer.addresses)
        if (addr.size() > 15 || ttl < 0) __builtin_trap();
    return 0;
}
