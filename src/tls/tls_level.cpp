// TLS security level names (see tls_level.h).
//
// Trust: configuration text.
#include "tls/tls_level.h"

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

}  // namespace pf::tls
