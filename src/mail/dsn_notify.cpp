// notify_classes and VERP notice recipients; see dsn_notify.h.
#include "mail/dsn_notify.h"

#include "util/strings.h"

#include <fmt/core.h>
#include <utility>

namespace pf::mail {

std::expected<int, std::string> parse_notify_classes(std::string_view value) {
    static constexpr std::pair<std::string_view, int> kNames[] = {
        {"bounce", kNotifyBounce},     {"2bounce", kNotify2Bounce},   {"data", kNotifyData},
        {"delay", kNotifyDelay},       {"policy", kNotifyPolicy},     {"protocol", kNotifyProtocol},
        {"resource", kNotifyResource}, {"software", kNotifySoftware},
    };
    int mask = 0;
    for (auto word : util::split_tokens(value, " \t\r\n,")) {
        bool found = false;
        for (const auto& [name, bit] : kNames) {
            if (word == name) {
                mask |= bit;
                found = true;
                break;
            }
        }
        if (!found) return std::unexpected(fmt::format("unknown notify_classes value \"{}\" in \"{}\"", word, value));
    }
    return mask;
}

std::string verp_sender(std::string_view sender, std::string_view delims, std::string_view recipient) {
    size_t send_local = sender.rfind('@');
    if (send_local == std::string_view::npos) send_local = sender.size();
    size_t rcpt_local = recipient.rfind('@');
    if (rcpt_local == std::string_view::npos) rcpt_local = recipient.size();
    std::string out(sender.substr(0, send_local));
    if (!delims.empty()) out += delims[0];
    out += recipient.substr(0, rcpt_local);
    if (rcpt_local + 1 < recipient.size()) {
        if (delims.size() > 1) out += delims[1];
        out += recipient.substr(rcpt_local + 1);
    }
    if (send_local + 1 < sender.size()) {
        out += '@';
        out += sender.substr(send_local + 1);
    }
    return out;
}

}  // namespace pf::mail
