// EHLO keyword masks: the keyword list of *_discard_ehlo_keywords and of
// the *_discard_ehlo_keyword_address_maps results as a bit mask, and a
// mask back as text for logging. The bit values and the name order are
// the reference's (its ehlo_mask table), so "discarding EHLO keywords:"
// lines list the names as it does, its "EHLO_MASK_SMTPUTF8" spelling of
// the SMTPUTF8 bit included.
//
// Trust: the word list comes from main.cf or a lookup table; unknown
// words are ignored (as the reference does), case does not matter.
#pragma once

#include <string>
#include <string_view>

namespace pf::mail {

inline constexpr unsigned kEhlo8bitmime = 1u << 0;
inline constexpr unsigned kEhloPipelining = 1u << 1;
inline constexpr unsigned kEhloSize = 1u << 2;
inline constexpr unsigned kEhloVrfy = 1u << 3;
inline constexpr unsigned kEhloEtrn = 1u << 4;
inline constexpr unsigned kEhloAuth = 1u << 5;
inline constexpr unsigned kEhloVerp = 1u << 6;
inline constexpr unsigned kEhloStarttls = 1u << 7;
inline constexpr unsigned kEhloXclient = 1u << 8;
inline constexpr unsigned kEhloXforward = 1u << 9;
inline constexpr unsigned kEhloEnhancedStatusCodes = 1u << 10;
inline constexpr unsigned kEhloDsn = 1u << 11;
inline constexpr unsigned kEhloSmtputf8 = 1u << 12;
inline constexpr unsigned kEhloChunking = 1u << 13;
inline constexpr unsigned kEhloSilent = 1u << 15;  // "silent-discard": no log line

// The mask of a list of keywords separated by blanks or commas.
unsigned ehlo_mask(std::string_view words);

// The names of the bits set, separated by one space, in the reference's order.
std::string str_ehlo_mask(unsigned mask);

}  // namespace pf::mail
