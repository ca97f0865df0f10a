// Quoting of address local-parts, between the internal form (what the
// queue file and lookup tables hold: "a b@example.com") and the external
// form (what goes on the wire and into headers: "\"a b\"@example.com"),
// reproducing the reference's quote_822_local and its inverse:
//  - a source route prefix "@a,@b:" is left alone;
//  - the local-part is what follows up to the last '@' (all of it when
//    there is none, or with kQuoteBareLocalpart);
//  - it stays as it is when it is a dot-string: not empty, no leading,
//    trailing or doubled '.', no blank, control character, nor any of
//    ( ) < > @ , ; : \ " [ ]  (and no 8-bit byte unless 8-bit clean, the
//    default); otherwise the whole local-part is wrapped in double quotes
//    with a backslash before '"', '\\' and CR (and 8-bit bytes when not
//    8-bit clean). The empty address becomes "" (two quotes);
//  - the domain is never changed.
// Unquoting drops the double quotes and the backslashes of escapes up to
// the last '@' that is outside quotes, and keeps the rest as it is.
//
// Trust: arbitrary bytes; both functions are total.
#pragma once

#include <string>
#include <string_view>

namespace pf::mail {

enum QuoteFlags : unsigned {
    kQuote8BitClean = 1u << 0,       // 8-bit bytes are ordinary (default)
    kQuoteExposeAt = 1u << 1,        // '@' in the local-part is ordinary text
    kQuoteBareLocalpart = 1u << 3,   // the input is a local-part only
    kQuoteDefault = kQuote8BitClean,
};

// Internal → external.
std::string quote_822_local(std::string_view internal, unsigned flags = kQuoteDefault);
// Appends the external form to out.
void quote_822_local_append(std::string& out, std::string_view internal, unsigned flags = kQuoteDefault);
// External → internal.
std::string unquote_822_local(std::string_view external);

// An address as log lines show it ("from=<...>"): the quoted external
// form, the null address left empty.
std::string address_for_log(std::string_view internal);

// True when [local_part] is a dot-string that needs no quotes.
bool is_822_dot_string(std::string_view local_part, unsigned flags = kQuoteDefault);

}  // namespace pf::mail
