// ESMTP parameter parsing (see esmtp_params.h).
// Trust: hostile input, checked byte by byte.
#include "smtp/esmtp_params.h"

#include "util/strings.h"

namespace pf::smtp {

EsmtpParam parse_esmtp_param(std::string_view word) {
    EsmtpParam p;
    p.text = std::string(word);
    auto eq = word.find('=');
    if (eq == std::string_view::npos) {
        p.keyword = std::string(word);
    } else {
        p.keyword = std::string(word.substr(0, eq));
        p.value = std::string(word.substr(eq + 1));
        p.has_value = true;
    }
    return p;
}

std::optional<int> parse_dsn_notify(std::string_view value) {
    if (value.empty()) return std::nullopt;
    int bits = 0;
    std::size_t start = 0;
    while (start <= value.size()) {
        auto comma = value.find(',', start);
        auto word = value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (util::iequals(word, "NEVER")) bits |= kNotifyNever;
        else if (util::iequals(word, "SUCCESS")) bits |= kNotifySuccess;
        else if (util::iequals(word, "FAILURE")) bits |= kNotifyFailure;
        else if (util::iequals(word, "DELAY")) bits |= kNotifyDelay;
        else return std::nullopt;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    if ((bits & kNotifyNever) && bits != kNotifyNever) return std::nullopt;
    return bits;
}

std::optional<int> parse_dsn_ret(std::string_view value) {
    if (util::iequals(value, "FULL")) return kRetFull;
    if (util::iequals(value, "HDRS")) return kRetHdrs;
    return std::nullopt;
}

std::optional<std::uint64_t> parse_size(std::string_view value) {
    if (value.empty()) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        if (n > (UINT64_MAX - 9) / 10) return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

}  // namespace pf::smtp
