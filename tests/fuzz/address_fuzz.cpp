// Fuzz harness: the address tokenizer, header list parser, both printers
// and local-part quoting on arbitrary bytes (src/mail/address_*).
#include "mail/address_list.h"
#include "mail/address_quote.h"
#include "mail/address_token.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto list = pf::mail::parse_822_list(text, 200);
    (void)pf::mail::internalize_822(list, pf::mail::kTokStrLine);
    (void)pf::mail::externalize_822(list, pf::mail::kTokStrHeader);
    for (const auto& a : pf::mail::header_addresses(text)) {
        // Quoting the internal form and unquoting it again is the identity.
        if (pf::mail::unquote_822_local(pf::mail::quote_822_local(a.internal)) != a.internal &&
            a.internal.find('"') == std::string::npos && a.internal.find('\\') == std::string::npos)
            __builtin_trap();
    }
    (void)pf::mail::unquote_822_local(text);
    (void)pf::mail::quote_822_local(text, pf::mail::kQuoteDefault);
    return 0;
}
