// The master.cf arguments of smtp(8)/lmtp(8): "flags=DORX" (any case for
// "flags=", the letters as written; the last such word wins), as the
// reference reads them once at start-up: D prepends Delivered-To:, O
// X-Original-To:, R Return-Path:, X marks LMTP delivery as final. Any
// other word, or another letter, stops the daemon before its first
// request. lmtp_assume_final = yes adds X to an lmtp service that lacks it,
// with the reference's "obsolete" warning.
//
// Trust: the words come from master.cf (the administrator), the texts of
// errors quote them.
#pragma once

#include <expected>
#include <string>
#include <vector>

namespace pf::smtp_agent {

enum CliFlags : unsigned {
    kCliDeliveredTo = 1u << 0,   // D
    kCliOrigRcpt = 1u << 1,      // O
    kCliReturnPath = 1u << 2,    // R
    kCliFinalDelivery = 1u << 3, // X
};

struct CliAttr {
    unsigned flags = 0;
    std::string warning;   // to log once (lmtp_assume_final), "" when none
};

// The error is the text of the fatal message.
std::expected<CliAttr, std::string> parse_cli_attr(const std::vector<std::string>& args, bool lmtp,
                                                   bool lmtp_assume_final);

}  // namespace pf::smtp_agent
