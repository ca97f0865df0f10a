// EHLO keyword masks (ehlo_mask.h): the name table and its two directions.
//
// Trust: words are configuration or table text; only compared, never kept.
#include "mail/ehlo_mask.h"

#include "util/strings.h"

namespace pf::mail {

namespace {

struct Name {
    std::string_view name;
    unsigned bit;
};

// The reference's table order; two names map to the SMTPUTF8 bit and the
// first one is what a mask prints as.
constexpr Name kNames[] = {
    {"8BITMIME", kEhlo8bitmime},
    {"AUTH", kEhloAuth},
    {"ETRN", kEhloEtrn},
    {"PIPELINING", kEhloPipelining},
    {"SIZE", kEhloSize},
    {"VERP", kEhloVerp},
    {"VRFY", kEhloVrfy},
    {"XCLIENT", kEhloXclient},
    {"XFORWARD", kEhloXforward},
    {"STARTTLS", kEhloStarttls},
    {"ENHANCEDSTATUSCODES", kEhloEnhancedStatusCodes},
    {"DSN", kEhloDsn},
    {"EHLO_MASK_SMTPUTF8", kEhloSmtputf8},
    {"SMTPUTF8", kEhloSmtputf8},
    {"CHUNKING", kEhloChunking},
    {"SILENT-DISCARD", kEhloSilent},
};

}  // namespace

unsigned ehlo_mask(std::string_view words) {
    unsigned mask = 0;
    for (auto word : util::split_tokens(words, util::kListSeparators))
        for (const auto& n : kNames)
            if (util::iequals(word, n.name)) {
                mask |= n.bit;
                break;
            }
    return mask;
}

std::string str_ehlo_mask(unsigned mask) {
    std::string out;
    for (const auto& n : kNames) {
        if ((mask & n.bit) == 0) continue;
        mask &= ~n.bit;
        if (!out.empty()) out += ' ';
        out += n.name;
    }
    return out;
}

}  // namespace pf::mail
