// Address masquerading; see masquerade.h.
#include "mail/masquerade.h"

#include "util/strings.h"

namespace pf::mail {

Masquerade::Masquerade(std::string_view domains, std::function<bool(std::string_view)> is_exception)
    : is_exception_(std::move(is_exception)) {
    for (std::string_view d : util::split_tokens(domains, ", \t\r\n")) domains_.push_back(util::to_lower(d));
}

bool Masquerade::apply(std::string& address) const {
    size_t at = address.rfind('@');
    if (at == std::string::npos) return false;
    if (is_exception_ && is_exception_(std::string_view(address).substr(0, at))) return false;
    const std::string domain = util::to_lower(std::string_view(address).substr(at + 1));
    for (const std::string& entry : domains_) {
        std::string_view masq = entry;
        bool truncate = true;
        while (!masq.empty() && masq.front() == '!') {
            truncate = !truncate;
            masq.remove_prefix(1);
        }
        if (masq.empty()) continue;
        if (masq.size() == domain.size()) {
            if (masq == domain) break;
        } else if (masq.size() < domain.size()) {
            std::string_view parent = std::string_view(domain).substr(domain.size() - masq.size());
            if (domain[domain.size() - masq.size() - 1] == '.' && parent == masq) {
                if (!truncate) break;
                address.resize(at + 1);
                address.append(masq);
                return true;
            }
        }
    }
    return false;
}

}  // namespace pf::mail
