// Composition of delivery status notifications; see dsn_notice.h.
#include "mail/dsn_notice.h"

#include "mail/address_quote.h"
#include "mail/header_action.h"
#include "mail/mail_date.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <cctype>
#include <fmt/core.h>

namespace pf::mail {
namespace {

constexpr int kWrapWidth = 79;
constexpr int kWrapIndent = 4;

bool is_blank(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

bool has_8bit(std::string_view s) {
    for (unsigned char c : s)
        if (c & 0x80) return true;
    return false;
}

// A non-empty address that is UTF-8 and not plain ASCII.
bool is_utf8_address(std::string_view s) { return !s.empty() && !util::all_ascii(s) && util::valid_utf8(s); }

}  // namespace

std::vector<std::string> wrap_line(std::string_view text, int width, int indent) {
    std::vector<std::string> out;
    int curr_indent = 0;
    long curr_len = width;
    if (indent < 0) {
        curr_indent = -indent;
        curr_len = width + indent;
    }
    auto emit = [&](size_t start, size_t len, int ind) {
        while (len > 0 && is_blank(text[start + len - 1])) --len;
        out.push_back(std::string(static_cast<size_t>(ind), ' ') + std::string(text.substr(start, len)));
    };
    const size_t n = text.size();
    size_t start_line = 0;
    size_t word = 0;
    bool more = true;
    while (more) {
        size_t next_space = word;
        while (next_space < n && text[next_space] != ' ' && text[next_space] != '\t') ++next_space;
        if (word > start_line && static_cast<long>(next_space - start_line) > curr_len) {
            emit(start_line, word - start_line, curr_indent);
            while (word < n && is_blank(text[word])) ++word;
            if (start_line == 0) {
                curr_indent += indent;
                curr_len -= indent;
            }
            start_line = word;
        }
        if (next_space < n) {
            word = next_space + 1;
        } else {
            more = false;
        }
    }
    emit(start_line, n - start_line, curr_indent);
    return out;
}

std::string mail_name_atom(std::string_view mail_name) {
    static constexpr std::string_view kSpecials = " \t\r\n()<>@,;:\\\".[]";
    std::string out(mail_name);
    for (char& c : out)
        if (kSpecials.find(c) != std::string_view::npos) c = '-';
    return out;
}

NoticeComposer::NoticeComposer(const NoticeSettings& settings, const NoticeMessage& message,
                               const BounceTemplate& tmpl, std::vector<std::string> body, RecordSink sink,
                               const WarningSink& warn)
    : settings_(settings), message_(message), tmpl_(tmpl), body_(std::move(body)), sink_(std::move(sink)) {
    if (settings_.smtputf8_enable || message_.encoding == "8bit") {
        mime_encoding_ = "8bit";
    } else if (message_.encoding == "7bit") {
        mime_encoding_ = "7bit";
    } else {
        if (!message_.encoding.empty())
            emit_warning(warn, fmt::format("{}: unknown encoding: {:.200}", message_.queue_id, message_.encoding));
    }
    template_encoding_ = "7bit";
    for (const auto& line : tmpl_.body())
        if (has_8bit(line)) template_encoding_ = "8bit";
    mail_name_ = mail_name_atom(settings_.mail_name);
    boundary_ = fmt::format("{}.{}/{}", message_.queue_id, static_cast<unsigned long>(message_.now),
                            settings_.myhostname);
}

bool NoticeComposer::not_7bit_mime() const { return !mime_encoding_.empty() && !util::iequals(mime_encoding_, "7bit"); }

void NoticeComposer::put_wrapped(std::string_view text) {
    for (const auto& line : wrap_line(text, kWrapWidth, kWrapIndent)) put(line);
}

void NoticeComposer::header(std::string_view recipient, bool postmaster_copy) {
    // The built-in templates have an older From: form for
    // header_from_format = obsolete; a template file's From: is used as is.
    std::string from = !settings_.standard_from && tmpl_.origin() == kBuiltinOrigin
                           ? std::string("MAILER-DAEMON (Mail Delivery System)")
                           : tmpl_.from();
    put(fmt::format("From: {}", from));
    put(fmt::format("Subject: {}", postmaster_copy && tmpl_.has_postmaster_subject() ? tmpl_.postmaster_subject()
                                                                                      : tmpl_.subject()));
    put(fmt::format("To: {}", quote_822_local(recipient)));
    if (!message_.orig_msgid.empty()) {
        put(fmt::format("References: {}", message_.orig_msgid));
        put(fmt::format("In-Reply-To: {}", message_.orig_msgid));
    }
    put(fmt::format("Auto-Submitted: {}", postmaster_copy ? "auto-generated" : "auto-replied"));
    put("MIME-Version: 1.0");
    put("Content-Type: multipart/report; report-type=delivery-status;");
    put(fmt::format("\tboundary=\"{}\"", boundary_));
    if (!mime_encoding_.empty())
        put(fmt::format("Content-Transfer-Encoding: {}",
                        util::iequals(mime_encoding_, "7bit") ? template_encoding_ : mime_encoding_));
    put("");
    put("This is a MIME-encapsulated message.");
    put("");
    put(fmt::format("--{}", boundary_));
    put("Content-Description: Notification");
    std::string charset = !util::iequals(tmpl_.charset(), "us-ascii") ? tmpl_.charset()
                          : not_7bit_mime()                          ? std::string("utf-8")
                                                                     : std::string("us-ascii");
    put(fmt::format("Content-Type: text/plain; charset={}", charset));
    if (not_7bit_mime()) put(fmt::format("Content-Transfer-Encoding: {}", mime_encoding_));
    put("");
}

void NoticeComposer::boilerplate() {
    for (const auto& line : body_) put(line);
}

void NoticeComposer::recipient_log(const DsnLogEntry& e) {
    put("");
    if (!e.orig_addr.empty())
        put_wrapped(fmt::format("<{}> (expanded from <{}>): {}", e.address, e.orig_addr, e.reason));
    else
        put_wrapped(fmt::format("<{}>: {}", e.address, e.reason));
}

int NoticeComposer::diagnostic_log(const std::optional<std::vector<DsnLogEntry>>& entries, int notify_filter) {
    if (!entries) {
        if (failure()) {
            put("");
            put("\t--- Delivery report unavailable ---");
            return 1;
        }
        return 0;
    }
    int count = 0;
    for (const auto& e : *entries) {
        if (!dsn_notify_selected(e, notify_filter)) continue;
        ++count;
        recipient_log(e);
    }
    return count;
}

void NoticeComposer::header_dsn() {
    bool requested = (message_.sendopts & kSmtpUtf8Requested) != 0;
    put("");
    put(fmt::format("--{}", boundary_));
    put("Content-Description: Delivery report");
    put(fmt::format("Content-Type: message/{}delivery-status", requested ? "global-" : ""));
    if (not_7bit_mime() && requested) put(fmt::format("Content-Transfer-Encoding: {}", mime_encoding_));
    put("");
    put(fmt::format("Reporting-MTA: dns; {}", settings_.myhostname));
    if (!message_.dsn_envid.empty()) put(fmt::format("Original-Envelope-Id: {}", message_.dsn_envid));
    put(fmt::format("X-{}-Queue-ID: {}", mail_name_, message_.queue_id));
    if (!message_.sender.empty())
        put(fmt::format("X-{}-Sender: {}; {}", mail_name_,
                        (message_.sendopts & kSmtpUtf8All) && is_utf8_address(message_.sender) ? "utf-8" : "rfc822",
                        message_.sender));
    if (message_.arrival_time > 0) put(fmt::format("Arrival-Date: {}", mail_date(message_.arrival_time)));
}

void NoticeComposer::recipient_dsn(const DsnLogEntry& e) {
    bool utf8_ok = (message_.sendopts & kSmtpUtf8All) != 0;
    put("");
    put(fmt::format("Final-Recipient: {}; {}", utf8_ok && is_utf8_address(e.address) ? "utf-8" : "rfc822", e.address));
    if (!e.dsn_orcpt.empty())
        put(fmt::format("Original-Recipient: {}", e.dsn_orcpt));
    else if (!e.orig_addr.empty())
        put(fmt::format("Original-Recipient: {}; {}", utf8_ok && is_utf8_address(e.orig_addr) ? "utf-8" : "rfc822",
                        e.orig_addr));
    put(fmt::format("Action: {}", failure() ? std::string("failed") : e.action));
    put(fmt::format("Status: {}", e.status));
    if (!e.mtype.empty() && !e.mname.empty()) put_wrapped(fmt::format("Remote-MTA: {}; {}", e.mtype, e.mname));
    if (!e.dtype.empty() && !e.dtext.empty())
        put_wrapped(fmt::format("Diagnostic-Code: {}; {}", e.dtype, e.dtext));
    else
        put_wrapped(fmt::format("Diagnostic-Code: X-{}; {}", mail_name_, e.reason));
    if (delay())
        put(fmt::format("Will-Retry-Until: {}",
                        mail_date(message_.arrival_time + static_cast<std::time_t>(settings_.max_queue_time))));
}

int NoticeComposer::diagnostic_dsn(const std::optional<std::vector<DsnLogEntry>>& entries, int notify_filter) {
    if (!entries) return failure() ? 1 : 0;
    int count = 0;
    for (const auto& e : *entries) {
        if (!dsn_notify_selected(e, notify_filter)) continue;
        ++count;
        recipient_dsn(e);
    }
    return count;
}

void NoticeComposer::original(int ret, const RecordSource& source) {
    bool headers_only = ret == kDsnRetHdrs;
    if (settings_.bounce_size_limit > 0 && message_.have_original &&
        (message_.message_size <= 0 || message_.message_size > settings_.bounce_size_limit))
        headers_only = true;
    bool undelivered = failure() || delay();
    bool requested = (message_.sendopts & kSmtpUtf8Requested) != 0;
    put("");
    put(fmt::format("--{}", boundary_));
    put(fmt::format("Content-Description: {}{}", undelivered ? "Undelivered " : "",
                    headers_only ? "Message Headers" : "Message"));
    if (requested)
        put(fmt::format("Content-Type: message/{}", headers_only ? "global-headers" : "global"));
    else
        put(fmt::format("Content-Type: {}", headers_only ? "text/rfc822-headers" : "message/rfc822"));
    if (not_7bit_mime()) put(fmt::format("Content-Transfer-Encoding: {}", mime_encoding_));
    put("");
    if (!message_.have_original || message_.data_offset <= 0 || !source) {
        put("\t--- Undelivered message unavailable ---");
        return;
    }
    put(fmt::format("Return-Path: <{}>", message_.sender));
    char type = 0;
    std::string data;
    while (source(type, data)) {
        if (type != 'N' && type != 'L') break;
        if (headers_only && !(!data.empty() && (data[0] == ' ' || data[0] == '\t')) && !is_header_text(data)) break;
        sink_(type, data);
    }
    put("");
    put(fmt::format("--{}--", boundary_));
}

}  // namespace pf::mail
