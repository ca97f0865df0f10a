// DNS responses to A queries, for dnsblog(8) (see the header).
#include "daemon/dnsblog/dnsblog_answer.h"

#include <fmt/core.h>

namespace pf::dnsblog {

namespace {

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeSoa = 6;

// Skips a possibly compressed name at pos; false when malformed.
bool skip_name(std::span<const uint8_t> b, std::size_t& pos) {
    for (int labels = 0; labels < 128; ++labels) {
        if (pos >= b.size()) return false;
        uint8_t len = b[pos];
        if ((len & 0xC0) == 0xC0) {
            if (pos + 2 > b.size()) return false;
            pos += 2;
            return true;
        }
        if ((len & 0xC0) != 0) return false;
        ++pos;
        if (len == 0) return true;
        if (pos + len > b.size()) return false;
        pos += len;
    }
    return false;
}

uint16_t u16(std::span<const uint8_t> b, std::size_t p) { return static_cast<uint16_t>(b[p] << 8 | b[p + 1]); }
uint32_t u32(std::span<const uint8_t> b, std::size_t p) {
    return static_cast<uint32_t>(b[p]) << 24 | static_cast<uint32_t>(b[p + 1]) << 16 |
           static_cast<uint32_t>(b[p + 2]) << 8 | b[p + 3];
}

}  // namespace

Answer parse_a_answer(std::span<const uint8_t> b) {
    Answer out;
    if (b.size() < 12) return out;
    out.rcode = b[3] & 0x0F;
    unsigned qd = u16(b, 4), an = u16(b, 6), ns = u16(b, 8);
    std::size_t pos = 12;
    for (unsigned i = 0; i < qd; ++i) {
        if (!skip_name(b, pos) || pos + 4 > b.size()) return out;
        pos += 4;
    }
    auto read_rr = [&](uint16_t& type, long& ttl, std::size_t& rdata, std::size_t& rdlen) {
        if (!skip_name(b, pos) || pos + 10 > b.size()) return false;
        type = u16(b, pos);
        ttl = static_cast<long>(u32(b, pos + 4) & 0x7FFFFFFF);
        rdlen = u16(b, pos + 8);
        rdata = pos + 10;
        if (rdata + rdlen > b.size()) return false;
        pos = rdata + rdlen;
        return true;
    };
    for (unsigned i = 0; i < an; ++i) {
        uint16_t type = 0;
        long ttl = 0;
        std::size_t rdata = 0, rdlen = 0;
        if (!read_rr(type, ttl, rdata, rdlen)) return out;
        if (type == kTypeA && rdlen == 4)
            out.addresses.emplace_back(fmt::format("{}.{}.{}.{}", b[rdata], b[rdata + 1], b[rdata + 2], b[rdata + 3]),
                                       ttl);
    }
    if (out.rcode == 0 && !out.addresses.empty()) {
        out.status = Answer::Status::ok;
        return out;
    }
    if (out.rcode != 0 && out.rcode != 3) return out;
    out.status = Answer::Status::not_found;
    for (unsigned i = 0; i < ns; ++i) {
        uint16_t type = 0;
        long ttl = 0;
        std::size_t rdata = 0, rdlen = 0;
        if (!read_rr(type, ttl, rdata, rdlen)) break;
        if (type != kTypeSoa) continue;
        std::size_t p = rdata;
        if (!skip_name(b, p) || !skip_name(b, p) || p + 20 > rdata + rdlen) continue;
        long t = ttl;
        if (out.negative_ttl < 0 || out.negative_ttl > t) out.negative_ttl = t;
    }
    return out;
}

}  // namespace pf::dnsblog
