// See escape.h.
#include "util/escape.h"

#include <fmt/format.h>

namespace pf::util {

std::string escape_bytes(std::string_view bytes) {
    std::string out;
    for (unsigned char c : bytes) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
            if (c == '\\') out += '\\';
            continue;
        }
        switch (c) {
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default: out += fmt::format("\\{:03o}", c); break;
        }
    }
    return out;
}

}  // namespace pf::util
