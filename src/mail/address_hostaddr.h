// Syntax checks of numeric host addresses as mail addresses carry them:
// "1.2.3.4", "IPv6:..." inside an address literal "[...]", with the
// reference's own rules and warning texts (valid_ipv4_hostaddr,
// valid_ipv6_hostaddr, valid_mailhost_addr, valid_mailhost_literal). They
// are stricter or looser than inet_pton in places (an IPv4 address needs
// four parts, each at most 255, the first not 0 unless all are; an IPv6
// address needs at least two ':' and at most four hex digits a field), and
// with warn set each failure is logged as the reference logs it.
//
// Trust: arbitrary bytes from addresses; nothing is read past the input.
#pragma once

#include <optional>
#include <string_view>

namespace pf::mail {

bool valid_ipv4_hostaddr(std::string_view addr, bool warn);
bool valid_ipv6_hostaddr(std::string_view addr, bool warn);
// IPv6 when it holds a ':', IPv4 otherwise.
bool valid_hostaddr(std::string_view addr, bool warn);
// "IPv6:addr" (any case of the prefix) or an IPv4 address; returns the
// address without the prefix, nullopt when invalid.
std::optional<std::string_view> valid_mailhost_addr(std::string_view addr, bool warn);
// "[" valid_mailhost_addr "]".
bool valid_mailhost_literal(std::string_view addr, bool warn);

}  // namespace pf::mail
