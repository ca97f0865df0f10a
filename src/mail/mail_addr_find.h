// Address lookups in canonical, virtual, *_bcc_maps and similar tables,
// with the reference's search order for an address user+ext@domain
// (recipient_delimiter "+"):
//   1. user+ext@domain (every table, pattern tables included);
//   2. user@domain (exact-match tables only);
//   3. when domain is local ($myorigin, or what is_local says: the
//      reference's mydestination/inet_interfaces/proxy_interfaces test):
//      user+ext, then user (exact-match tables only);
//   4. @domain (exact-match tables only).
// Keys are folded to lower case. A match of a key without the extension
// reports the extension so that callers can put it back
// (propagate_unmatched_extensions).
//
// mail_addr_map() turns the answer into addresses as cleanup uses them:
// "@other" keeps the original local-part with the new domain; the value
// is a list (commas or blanks, quoting respected); each address without
// a domain is completed by the caller's qualify() (the reference asks
// trivial-rewrite, local context); the extension is put back when asked.
//
// Trust: addresses come from messages and the network.
#pragma once

#include "mail/maps.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

struct AddrFindContext {
    std::string recipient_delimiter;                          // may be empty
    std::string myorigin;
    std::function<bool(std::string_view domain)> is_local;    // may be empty
};

// An is_local test from the text of mydestination taken as a list of
// domain names (commas or blanks), compared without case; what smtp,
// virtual and cleanup use when they have no trivial-rewrite at hand.
std::function<bool(std::string_view domain)> mydestination_test(std::string_view mydestination);

struct AddrFindResult {
    enum class Status { found, not_found, error } status = Status::not_found;
    std::string value;      // found: the table's answer
    std::string extension;  // found without the extension: "+ext" part, delimiter included
};

// address is in the form the keys use (the reference: external form).
AddrFindResult mail_addr_find(const Maps& maps, std::string_view address, const AddrFindContext& ctx);

// Looks up and expands to addresses; nullopt when not found; error sets
// *error (and returns nullopt).
std::optional<std::vector<std::string>> mail_addr_map(const Maps& maps, std::string_view address, bool propagate,
                                                      const AddrFindContext& ctx,
                                                      const std::function<std::string(const std::string&)>& qualify,
                                                      bool* error);

}  // namespace pf::mail
