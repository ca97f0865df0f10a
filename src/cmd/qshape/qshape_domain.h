// How qshape(1) turns an envelope address into the domain it counts, and
// a domain into its parent for -p, exactly as the reference's regular
// expressions do it (including their odd corners: an address without "@"
// counts as its own domain, ".." becomes ".", one leading and one
// trailing dot are dropped, a newline stops "." from matching).
//
// Trust: addresses come from queue files and may hold any bytes.
#pragma once

#include <string>
#include <string_view>

namespace pf::qshape {

// Lower-cases A-Z only, as Perl's lc on a byte string.
std::string lower_ascii(std::string_view text);

// The counted name for an address already lower-cased ("" became
// "MAILER-DAEMON" before): the part after the last "@" (of the first line
// holding one), with ".." squeezed and an outer dot trimmed.
std::string address_domain(std::string_view address);

// The -p step: "a.b.c" -> ".b.c"; false when the name has fewer than
// three labels (top-level domains are not shown).
bool parent_domain(std::string& name);

}  // namespace pf::qshape
