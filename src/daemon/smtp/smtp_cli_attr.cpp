// The smtp/lmtp master.cf arguments: see smtp_cli_attr.h.
#include "daemon/smtp/smtp_cli_attr.h"

#include "util/strings.h"

#include <fmt/format.h>

namespace pf::smtp_agent {

std::expected<CliAttr, std::string> parse_cli_attr(const std::vector<std::string>& args, bool lmtp,
                                                   bool lmtp_assume_final) {
    static constexpr std::string_view kPrefix = "flags=";
    CliAttr attr;
    std::string last_flags(kPrefix);
    for (const std::string& word : args) {
        if (word.size() < kPrefix.size() || !util::iequals(std::string_view(word).substr(0, kPrefix.size()), kPrefix))
            return std::unexpected(fmt::format("unknown attribute name: {}", word));
        last_flags = word;
        const std::string_view letters = std::string_view(word).substr(kPrefix.size());
        attr.flags = 0;
        for (char c : letters) {
            switch (c) {
            case 'D': attr.flags |= kCliDeliveredTo; break;
            case 'O': attr.flags |= kCliOrigRcpt; break;
            case 'R': attr.flags |= kCliReturnPath; break;
            case 'X': attr.flags |= kCliFinalDelivery; break;
            default:
                return std::unexpected(fmt::format("unknown {} value \"{}\" in \"{}\"", word, c, letters));
            }
        }
    }
    if (lmtp && lmtp_assume_final && !(attr.flags & kCliFinalDelivery)) {
        attr.flags |= kCliFinalDelivery;
        attr.warning = fmt::format("lmtp_assume_final is obsolete; instead, specify \"{}X\" in master.cf", last_flags);
    }
    return attr;
}

}  // namespace pf::smtp_agent
