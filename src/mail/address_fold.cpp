// Address splitting, lower-casing and recipient-delimiter helpers; see
// address_fold.h.
#include "mail/address_fold.h"

namespace pf::mail {

SplitAddress split_address(std::string_view address) {
    auto at = address.rfind('@');
    if (at == std::string_view::npos) return {address, {}, false};
    return {address.substr(0, at), address.substr(at + 1), true};
}

std::string lowercase_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string fold_address(std::string_view address) { return lowercase_ascii(address); }

std::string fold_domain_part(std::string_view address) {
    auto at = address.rfind('@');
    if (at == std::string_view::npos) return std::string(address);
    return std::string(address.substr(0, at + 1)) + lowercase_ascii(address.substr(at + 1));
}

namespace {
bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && lowercase_ascii(a) == lowercase_ascii(b);
}
}  // namespace

std::optional<DelimiterSplit> split_recipient_delimiter(std::string_view local, std::string_view delimiters,
                                                        const DelimiterOptions& options) {
    if (delimiters.empty() || local.empty()) return std::nullopt;
    if (iequals(local, "postmaster") || iequals(local, "MAILER-DAEMON") ||
        iequals(local, options.double_bounce_sender))
        return std::nullopt;
    if (delimiters.find('-') != std::string_view::npos && options.owner_request_special) {
        if (local.size() >= 6 && iequals(local.substr(0, 6), "owner-")) return std::nullopt;
        if (local.size() > 8 && iequals(local.substr(local.size() - 8), "-request")) return std::nullopt;
    }
    auto pos = local.find_first_of(delimiters);
    if (pos == std::string_view::npos || pos == 0) return std::nullopt;
    return DelimiterSplit{local.substr(0, pos), local[pos], local.substr(pos + 1)};
}

std::optional<std::string> strip_address_extension(std::string_view address, std::string_view delimiters,
                                                   const DelimiterOptions& options) {
    auto parts = split_address(address);
    auto split = split_recipient_delimiter(parts.local, delimiters, options);
    if (!split) return std::nullopt;
    std::string out(split->user);
    if (parts.has_at) {
        out.push_back('@');
        out.append(parts.domain);
    }
    return out;
}

}  // namespace pf::mail
