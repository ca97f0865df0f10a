// A list of lookup tables searched in order ("hash:a, pcre:b"), and the
// reference's address lookup strategies over such a list, for the
// parameters whose keys are addresses (transport_maps, relocated_maps,
// sender_dependent_relayhost_maps, sender_dependent_default_transport_maps,
// and, for other components, canonical/virtual maps):
//  - search: the first table that has the key wins; a table error stops
//    the search (error); an empty value is a configuration error (the
//    reference warns "<title> lookup of <key> returns an empty string
//    result" and "... should return NO RESULT in case of NOT FOUND");
//    partial keys (everything but the full address) are asked only of
//    tables with exact keys (not regexp/pcre);
//  - find_address: "user+ext@domain", then "user@domain" (when a recipient
//    delimiter is set), then (strategy) "user+ext"/"user" when the domain is
//    local, "@domain", then "domain" and its parents. Each address key is
//    tried in external (quoted) form first, then internal.
// Keys are folded to lower case by the tables (opened with kFoldFixed).
//
// Trust: keys come from mail; tables from main.cf.
#pragma once

#include "dict/dict.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

enum AddressFindStrategy : unsigned {
    kFindFull = 1u << 0,            // localpart+ext@domain
    kFindNoExt = 1u << 1,           // localpart@domain
    kFindLocalpartIfLocal = 1u << 2,  // localpart+ext, localpart (local domains)
    kFindLocalpartAtIfLocal = 1u << 3,  // localpart+ext@, localpart@ (local domains)
    kFindAtDomain = 1u << 4,        // @domain
    kFindDomain = 1u << 5,          // domain
    kFindParentDomain = 1u << 6,    // ... then parent domains "b.c", "c"
    kFindDotParentDomain = 1u << 7, // ... then ".b.c", ".c"
    kFindDefault = kFindFull | kFindNoExt | kFindLocalpartIfLocal | kFindAtDomain,
};

class AddressMaps {
public:
    // title: the parameter name, used in messages. Tables are opened with
    // kLock | kFoldFixed | extra_flags (kNoRegSub there for the tables that
    // refuse $1 substitutions, e.g. transport_maps, not relocated_maps).
    // A table that cannot be opened becomes a stand-in that fails every
    // lookup (address_surrogate.h); throws std::runtime_error only for a
    // name that is no "type:name" (start-up only).
    AddressMaps(std::string title, std::string_view table_names, dict::Flags extra_flags = 0);
    // The same open tables under another title (the reference opens a
    // table once per name, whichever parameters list it).
    AddressMaps(std::string title, const AddressMaps& same_tables) : title_(std::move(title)), tables_(same_tables.tables_) {}
    ~AddressMaps();
    AddressMaps(AddressMaps&&) noexcept;
    AddressMaps& operator=(AddressMaps&&) noexcept;

    bool empty() const { return tables_.empty(); }
    const std::string& title() const { return title_; }

    // One key; exact_only: skip pattern tables (partial keys).
    dict::LookupResult search(std::string_view key, bool exact_only) const;

    struct AddressContext {
        std::string_view recipient_delimiter;                    // "" for none
        std::function<int(std::string_view domain)> is_local;   // 1 yes, 0 no, -1 error; may be empty
        std::string_view myorigin;
    };
    // The strategy search for an internal-form address.
    dict::LookupResult find_address(std::string_view address, unsigned strategy, const AddressContext& ctx) const;

private:
    std::string title_;
    std::vector<std::shared_ptr<dict::Dict>> tables_;
};

}  // namespace pf::mail
