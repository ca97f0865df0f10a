// UTF-8 checks; see utf8.h.
#include "util/utf8.h"

namespace pf::util {

size_t utf8_sequence_length(std::string_view s) {
    if (s.empty()) return 0;
    auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned char c = b(0);
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (s.size() < len) return 0;
    if (b(1) < lo || b(1) > hi) return 0;
    for (size_t i = 2; i < len; ++i)
        if (b(i) < 0x80 || b(i) > 0xbf) return 0;
    return len;
}

bool all_ascii(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) & 0x80) return false;
    return true;
}

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        if (!(static_cast<unsigned char>(s[i]) & 0x80)) {
            ++i;
            continue;
        }
        size_t n = utf8_sequence_length(s.substr(i));
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string printable(std::string_view s, bool utf8) {
    // The reference's rule is looser than valid_utf8(): a byte from 0xC2 to
    // 0xFE followed by at least one continuation byte stays, together with
    // all the continuation bytes that follow it.
    auto cont = [&](size_t k) {
        return k < s.size() && static_cast<unsigned char>(s[k]) >= 0x80 && static_cast<unsigned char>(s[k]) < 0xc0;
    };
    // Printable ASCII, the common case, is copied as a whole.
    size_t i = 0;
    while (i < s.size() && static_cast<unsigned char>(s[i]) >= 0x20 && static_cast<unsigned char>(s[i]) < 0x7f) ++i;
    if (i == s.size()) return std::string(s);
    std::string out;
    out.reserve(s.size());
    out.append(s.substr(0, i));
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
            ++i;
        } else if (utf8 && c >= 0xc2 && c <= 0xfe && cont(i + 1)) {
            size_t j = i + 2;
            while (cont(j)) ++j;
            out.append(s.substr(i, j - i));
            i = j;
        } else {
            out += '?';
            ++i;
        }
    }
    return out;
}

}  // namespace pf::util
