// Enhanced status code checks and splitting (deliver_dsn.h), with the
// reference's rules for what counts as a code.
#include "ipc/deliver_dsn.h"

namespace pf::ipc {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::size_t count_digits(std::string_view text, std::size_t from) {
    std::size_t n = 0;
    while (from + n < text.size() && text[from + n] >= '0' && text[from + n] <= '9') ++n;
    return n;
}

}  // namespace

std::size_t dsn_valid(std::string_view text) {
    if (text.size() < 2 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.') return 0;
    std::size_t pos = 2;
    std::size_t n = count_digits(text, pos);
    if (n < 1 || n > 3 || pos + n >= text.size() || text[pos + n] != '.') return 0;
    pos += n + 1;
    n = count_digits(text, pos);
    if (n < 1 || n > 3) return 0;
    if (pos + n < text.size() && !is_blank(text[pos + n])) return 0;
    return pos + n;
}

DsnSplit dsn_split(std::string_view default_status, std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size() && is_blank(text[pos])) ++pos;
    DsnSplit out;
    if (std::size_t len = dsn_valid(text.substr(pos)); len > 0) {
        out.status = std::string(text.substr(pos, len));
        pos += len;
    } else {
        out.status = std::string(default_status.substr(0, dsn_valid(default_status)));
        if (out.status.empty()) out.status = std::string(default_status);
    }
    while (pos < text.size() && is_blank(text[pos])) ++pos;
    out.text = text.substr(pos);
    return out;
}

}  // namespace pf::ipc
