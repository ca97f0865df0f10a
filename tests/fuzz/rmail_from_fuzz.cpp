// Fuzz harness: rmail(8)'s From line parser and sendmail argument builder
// (src/cmd/rmail/rmail_from.cpp, compiled in here: it belongs to the rmail
// executable only) on arbitrary input split as rmail's reader splits it.
// The first byte picks the domain length; invariants are checked.
#include "cmd/rmail/rmail_from.cpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace pf::rmail;
    if (size == 0) return 0;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string domain(static_cast<std::size_t>(data[0] % 8), 'D');
    Envelope envelope;
    std::string debug;
    std::size_t lines = 0;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        if (nl == std::string_view::npos || nl >= kLineBuffer - 1) break;  // "line too long"
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (line.find('\0') != std::string_view::npos) break;
        if (classify(line) == LineKind::other) {
            if (lines == 0) return 0;  // "missing or empty From line"
            break;
        }
        ++lines;
        debug.clear();
        auto r = parse_from_line(line, envelope, &debug);
        if (!r) {
            if (r.error().exit_code != kExDataErr) __builtin_trap();
            return 0;
        }
        if (envelope.from_user.empty()) __builtin_trap();
        for (char c : envelope.from_user)
            if (c == ' ' || c == '\t' || c == '\0') __builtin_trap();
        if (envelope.have_path && (envelope.from_path.empty() || envelope.from_path.back() != '!')) __builtin_trap();
        if (envelope.have_sys != envelope.have_path) __builtin_trap();
    }
    if (lines == 0) return 0;
    std::vector<std::string> recipients{"u", "a,b"};
    auto args = build_sendmail_args(envelope, domain, recipients);
    if (!args || args->size() != 9) __builtin_trap();
    if ((*args)[5].size() > kLineBuffer - 1 || (*args)[6].size() > kLineBuffer - 1) __builtin_trap();
    if ((*args)[8] != "<a,b>") __builtin_trap();
    return 0;
}
