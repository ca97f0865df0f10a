// Address masquerading (masquerade_domains, masquerade_exceptions), as the
// reference's cleanup does it: user@host.sub.example.com becomes
// user@example.com when example.com is listed; a listed domain equal to the
// address's domain, or an earlier "!domain" entry, stops the search without
// a change (order of the list matters); local-parts listed in
// masquerade_exceptions are never changed.
//
// Trust: addresses are outside input; the work is bounded by the list.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

class Masquerade {
public:
    // domains: the value of masquerade_domains (commas or blanks).
    // is_exception: whether a local-part is listed in masquerade_exceptions
    // (may be empty).
    Masquerade(std::string_view domains, std::function<bool(std::string_view local_part)> is_exception);

    bool empty() const { return domains_.empty(); }
    // Rewrites address in place; true when it changed.
    bool apply(std::string& address) const;

private:
    std::vector<std::string> domains_;
    std::function<bool(std::string_view)> is_exception_;
};

}  // namespace pf::mail
