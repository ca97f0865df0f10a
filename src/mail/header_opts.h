// The message headers the reference's cleanup knows by name, with what it
// does with each: which carry sender or recipient addresses (and are
// rewritten), which are Resent- headers, which are MIME headers, and which
// are dropped from the message (message_drop_headers: by default Bcc,
// Content-Length, Resent-Bcc and Return-Path). Lookups ignore case.
//
// Trust: header names come from messages (outside input); a lookup only
// compares bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pf::mail {

enum class HeaderType {
    other, apparently_to, bcc, cc, content_length, content_transfer_encoding, content_type, date,
    delivered_to, errors_to, from, message_id, received, reply_to, resent_bcc, resent_cc, resent_date,
    resent_from, resent_message_id, resent_reply_to, resent_sender, resent_to, return_path,
    return_receipt_to, sender, to, mail_followup_to, content_description, content_disposition,
    content_id, mime_version, disp_notification,
};

enum HeaderOptFlag : unsigned {
    kHdrDrop = 1u << 0,     // removed from the message
    kHdrSender = 1u << 1,   // holds sender addresses
    kHdrRecip = 1u << 2,    // holds recipient addresses
    kHdrResent = 1u << 3,   // a Resent- header
    kHdrExtract = 1u << 4,  // recipients for sendmail -t
    kHdrMime = 1u << 5,     // a MIME header
};

struct HeaderOpts {
    std::string name;   // preferred spelling
    HeaderType type = HeaderType::other;
    unsigned flags = 0;
};

class HeaderOptsTable {
public:
    // drop_list: the value of message_drop_headers (names separated by
    // commas or blanks; unknown names are added as dropped "other" headers).
    explicit HeaderOptsTable(std::string_view drop_list = "bcc, content-length, resent-bcc, return-path");

    // The entry for a header name (case-insensitive), or nullptr.
    const HeaderOpts* find_name(std::string_view name) const;
    // The entry for a whole header line "Name: value" (blanks before ':'
    // allowed), or nullptr.
    const HeaderOpts* find_header(std::string_view header) const;

private:
    std::vector<HeaderOpts> opts_;
};

// The name part of a header line (up to optional blanks and ':'), empty
// when the line is not a header.
std::string_view header_line_name(std::string_view header);

}  // namespace pf::mail
