// Header address lists (From:, To:, Cc:, Reply-To:, ...), parsed the way
// the reference parses them: the token list is split into addresses at top
// level commas; in each address a route address <...> wins over the rest
// (the phrase and comments around it become the address's neighbours in
// the list); a group "name: a, b;" keeps its name (start_group) and the
// closing ';' as list tokens and yields its members; bad syntax is
// recovered rather than rejected: unbalanced '<', '>', a lone phrase, a
// stray ':' or ';' all still produce addresses (a phrase without any
// address is taken as a local-part, as the reference does).
//
// Trust: the header value is arbitrary bytes from the network.
#pragma once

#include "mail/address_token.h"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

// The whole header value as a token list; each address is an Address token
// (kind address) whose children are the address's tokens in their
// external, route-address-stripped form (no comments, no phrase, no <>).
// Everything else (phrases, comments, '<', '>', ',', group names) stays
// as list tokens around the Address tokens.
TokenList parse_822_list(std::string_view header_value);
// With a token limit (the reference's header token_limit): tokens past it
// are ignored.
TokenList parse_822_list(std::string_view header_value, std::size_t token_limit);

// One address found in a header.
struct HeaderAddress {
    std::string external;  // quoted form, e.g. "\"a b\"@example.com"
    std::string internal;  // unquoted form, e.g. "a b@example.com"
};

// Every address of a header value, in order (what sendmail -t and
// cleanup's recipient extraction take). Empty addresses (e.g. "<>") are
// returned too, with empty strings; callers decide.
std::vector<HeaderAddress> header_addresses(std::string_view header_value);

// Rewrites every address of a header value: the callback gets the
// internal form and returns the new internal form; the header value is
// then put back together in external form with the reference's spacing
// (kTokStrLine: folded after each comma, as cleanup writes rewritten
// headers). Comments and phrases are kept.
std::string rewrite_header_addresses(std::string_view header_value,
                                     const std::function<std::string(const std::string& internal)>& rewrite,
                                     unsigned externalize_flags = kTokStrLine);

}  // namespace pf::mail
