// Fuzzes the header/body/MIME segmentation (mail/mime_state.h) with
// arbitrary messages, MIME processing on or off (first byte), and a small
// header limit so that long headers are exercised.
#include "fuzz_support.h"
#include "mail/mime_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    if (size == 0) return 0;
    const bool mime = data[0] & 1;
    std::string_view text = pf::fuzz::as_text(data + 1, size - 1);
    size_t total = 0;
    pf::mail::MimeState::Callbacks cb;
    cb.header = [&](pf::mail::HeaderClass, std::string_view h) { total += h.size(); };
    cb.body = [&](std::string_view b) { total += b.size(); };
    pf::mail::MimeState m(mime, 64, cb);
    while (!text.empty()) {
        size_t nl = text.find('\n');
        m.line(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    m.end();
    (void)total;
    return 0;
}
