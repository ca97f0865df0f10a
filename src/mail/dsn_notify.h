// Who gets told about what: the notify_classes parameter (which copies of
// trouble reports the postmaster receives: bounce, 2bounce, data, delay,
// policy, protocol, resource, software) and the VERP form of a notice's
// recipient (sender local part, first delimiter, the failed recipient's
// local part, second delimiter, its domain, '@', the sender's domain), as
// the reference computes them.
//
// Trust: notify_classes is admin-written (an unknown name is the
// reference's fatal error); VERP inputs are addresses from the queue and
// are only cut and joined.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace pf::mail {

// The notify_classes bits (the reference's values).
enum NotifyClass : int {
    kNotifyPolicy = 1 << 0,
    kNotifyProtocol = 1 << 1,
    kNotifyBounce = 1 << 2,
    kNotifySoftware = 1 << 3,
    kNotifyResource = 1 << 4,
    kNotify2Bounce = 1 << 5,
    kNotifyDelay = 1 << 6,
    kNotifyData = 1 << 7,
};

// Parses a class list (blanks or commas between names; names are
// case-sensitive as in the reference). The error is the reference's text
// for an unknown name: unknown notify_classes value "x" in "list".
std::expected<int, std::string> parse_notify_classes(std::string_view value);

// sender "prefix@origin" and recipient "user@domain" give
// "prefix<d0>user<d1>domain@origin"; delims has two characters.
std::string verp_sender(std::string_view sender, std::string_view delims, std::string_view recipient);

}  // namespace pf::mail
