// Base64; see base64.h.
#include "util/base64.h"

#include <array>

namespace pf::util {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<signed char, 256> make_table() {
    std::array<signed char, 256> t{};
    for (auto& x : t) x = -1;
    for (size_t i = 0; i < kAlphabet.size(); ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
    return t;
}
constexpr auto kTable = make_table();

int value_of(char c) { return kTable[static_cast<unsigned char>(c)]; }

}  // namespace

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    auto byte = [&](size_t k) { return static_cast<unsigned char>(data[k]); };
    for (; i + 3 <= data.size(); i += 3) {
        unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (size_t rest = data.size() - i; rest > 0) {
        unsigned v = byte(i) << 16;
        if (rest == 2) v |= byte(i + 1) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        int c0 = value_of(text[i]);
        int c1 = value_of(text[i + 1]);
        if (c0 < 0 || c1 < 0) return std::nullopt;
        out += static_cast<char>((c0 << 2) | (c1 >> 4));
        if (text[i + 2] == '=') break;
        int c2 = value_of(text[i + 2]);
        if (c2 < 0) return std::nullopt;
        out += static_cast<char>(((c1 & 0xf) << 4) | (c2 >> 2));
        if (text[i + 3] == '=') break;
        int c3 = value_of(text[i + 3]);
        if (c3 < 0) return std::nullopt;
        out += static_cast<char>(((c2 & 0x3) << 6) | c3);
    }
    return out;
}

}  // namespace pf::util
