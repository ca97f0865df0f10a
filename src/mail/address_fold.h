// Small helpers every address consumer needs: splitting an internal-form
// address at its last '@', case folding for table lookups (the reference
// folds the whole address to lower case for lookups; with SMTPUTF8 on, it
// folds UTF-8 too), and the recipient delimiter (user+ext@domain).
//
// Trust: arbitrary bytes; every function is total.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pf::mail {

struct SplitAddress {
    std::string_view local;   // before the last '@' (the whole address when none)
    std::string_view domain;  // after the last '@' (empty when none)
    bool has_at = false;
};

// Splits at the last '@'.
SplitAddress split_address(std::string_view address);

// ASCII lower case of the whole address (the reference's lookup folding).
std::string fold_address(std::string_view address);
// Lower case of the domain part only; the local-part is kept.
std::string fold_domain_part(std::string_view address);
// Lower case (ASCII) of a string.
std::string lowercase_ascii(std::string_view text);

// The recipient delimiter split of a local-part: "user+ext" with delimiters
// "+" gives {"user", '+', "ext"}: the first byte that is any of delimiters
// splits. Never split (nullopt), as the reference: "postmaster",
// "MAILER-DAEMON" and the double-bounce sender (any case); with '-' among
// the delimiters and owner_request_special, "owner-*" and "*-request"; a
// local-part that starts with a delimiter or has none; empty delimiters.
struct DelimiterOptions {
    std::string_view double_bounce_sender = "double-bounce";
    bool owner_request_special = true;
};
struct DelimiterSplit {
    std::string_view user;
    char delimiter = 0;
    std::string_view extension;
};
std::optional<DelimiterSplit> split_recipient_delimiter(std::string_view local_part, std::string_view delimiters,
                                                        const DelimiterOptions& options = {});

// Strips the extension from a full internal address ("user+ext@dom" →
// "user@dom"); nullopt when the address has no extension.
std::optional<std::string> strip_address_extension(std::string_view address, std::string_view delimiters,
                                                   const DelimiterOptions& options = {});

}  // namespace pf::mail
