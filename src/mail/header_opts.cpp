// The reference's table of known header names; see header_opts.h.
#include "mail/header_opts.h"

#include "mail/mime_state.h"
#include "util/strings.h"

namespace pf::mail {

namespace {
struct Row {
    const char* name;
    HeaderType type;
    unsigned flags;
};
constexpr unsigned kXrecip = kHdrRecip | kHdrExtract;
const Row kRows[] = {
    {"Apparently-To", HeaderType::apparently_to, kHdrRecip},
    {"Bcc", HeaderType::bcc, kXrecip},
    {"Cc", HeaderType::cc, kXrecip},
    {"Content-Description", HeaderType::content_description, kHdrMime},
    {"Content-Disposition", HeaderType::content_disposition, kHdrMime},
    {"Content-ID", HeaderType::content_id, kHdrMime},
    {"Content-Length", HeaderType::content_length, 0},
    {"Content-Transfer-Encoding", HeaderType::content_transfer_encoding, kHdrMime},
    {"Content-Type", HeaderType::content_type, kHdrMime},
    {"Delivered-To", HeaderType::delivered_to, 0},
    {"Disposition-Notification-To", HeaderType::disp_notification, kHdrSender},
    {"Date", HeaderType::date, 0},
    {"Errors-To", HeaderType::errors_to, kHdrSender},
    {"From", HeaderType::from, kHdrSender},
    {"Mail-Followup-To", HeaderType::mail_followup_to, kHdrSender},
    {"Message-Id", HeaderType::message_id, 0},
    {"MIME-Version", HeaderType::mime_version, kHdrMime},
    {"Received", HeaderType::received, 0},
    {"Reply-To", HeaderType::reply_to, kHdrSender},
    {"Resent-Bcc", HeaderType::resent_bcc, kXrecip | kHdrResent},
    {"Resent-Cc", HeaderType::resent_cc, kXrecip | kHdrResent},
    {"Resent-Date", HeaderType::resent_date, kHdrResent},
    {"Resent-From", HeaderType::resent_from, kHdrSender | kHdrResent},
    {"Resent-Message-Id", HeaderType::resent_message_id, kHdrResent},
    {"Resent-Reply-To", HeaderType::resent_reply_to, kHdrRecip | kHdrResent},
    {"Resent-Sender", HeaderType::resent_sender, kHdrSender | kHdrResent},
    {"Resent-To", HeaderType::resent_to, kXrecip | kHdrResent},
    {"Return-Path", HeaderType::return_path, kHdrSender},
    {"Return-Receipt-To", HeaderType::return_receipt_to, kHdrSender},
    {"Sender", HeaderType::sender, kHdrSender},
    {"To", HeaderType::to, kXrecip},
};
}  // namespace

std::string_view header_line_name(std::string_view header) {
    size_t n = header_name_length(header);
    return header.substr(0, n);
}

HeaderOptsTable::HeaderOptsTable(std::string_view drop_list) {
    for (const Row& r : kRows) opts_.push_back({r.name, r.type, r.flags});
    for (std::string_view name : util::split_tokens(drop_list, ", \t\r\n")) {
        bool found = false;
        for (HeaderOpts& o : opts_) {
            if (util::iequals(o.name, name)) {
                o.flags |= kHdrDrop;
                found = true;
            }
        }
        if (!found) opts_.push_back({std::string(name), HeaderType::other, kHdrDrop});
    }
}

const HeaderOpts* HeaderOptsTable::find_name(std::string_view name) const {
    for (const HeaderOpts& o : opts_)
        if (util::iequals(o.name, name)) return &o;
    return nullptr;
}

const HeaderOpts* HeaderOptsTable::find_header(std::string_view header) const {
    std::string_view name = header_line_name(header);
    if (name.empty()) return nullptr;
    return find_name(name);
}

}  // namespace pf::mail
