// TLS security level names (see tls_level.h).
//
// Trust: configuration text.
#include "tls/tls_level.h"

#include "util/msg.h"

#include <cctype>

namespace pf::tls {

namespace {

struct Name {
    const char* name;
    Level level;
};
const Name kLevels[] = {
    {"none", Level::kNone},       {"may", Level::kMay},       {"encrypt", Level::kEncrypt},
    {"fingerprint", Level::kFingerprint}, {"verify", Level::kVerify}, {"secure", Level::kSecure},
    {"dane", Level::kDane},       {"dane-only", Level::kDaneOnly},
};

}  // namespace

std::optional<Level> level_lookup(std::string_view name) {
    for (const auto& l : kLevels) {
        std::string_view n = l.name;
        if (n.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < n.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(name[i])) == n[i];
        if (same) return l.level;
    }
    return std::nullopt;
}

const char* level_name(Level level) {
    for (const auto& l : kLevels)
        if (l.level == level) return l.name;
    return "none";
}

ServerTls server_tls_from_level(std::string_view parameter, std::string_view level, ServerTls legacy) {
    if (level.empty()) return legacy;
    auto lev = level_lookup(level);
    if (!lev || *lev == Level::kDane || *lev == Level::kDaneOnly) util::msg_fatal("Invalid TLS level \"{}\"", level);
    switch (*lev) {
    case Level::kSecure:
    case Level::kVerify:
    case Level::kFingerprint:
        util::msg_warn("{}: unsupported TLS level \"{}\", using \"encrypt\"", parameter, level);
        [[fallthrough]];
    case Level::kEncrypt:
        return {true, true};
    case Level::kMay:
        return {true, false};
    default:
        return {false, false};
    }
}

}  // namespace pf::tls
