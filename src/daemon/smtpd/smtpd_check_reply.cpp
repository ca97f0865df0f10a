// How a restriction's verdict becomes an SMTP reply and a log line, as the
// reference's smtpd does it: "<code> <dsn> <text>" with the code checked
// (4xx/5xx, else a warning and "450 4.7.1 Service unavailable"), the text
// made printable (and not cut to 510 bytes: the reference means to, but
// its reply and log line carry the whole text), an earlier defer_if_reject turning
// a 5xx into its 4xx, soft_bounce turning 5 into 4, the DSN class made
// equal to the reply class; then "<queue id|NOQUEUE>: reject: <WHERE>
// from <name[addr]>: <reply>; from=<s> to=<r> proto=P helo=<h>".
// warn_if_reject turns a policy reject into a "reject_warning" line.
//
// Trust: texts come from tables and policy servers (hostile bytes are
// replaced before they reach the client or the log).
#include "daemon/smtpd/smtpd_check_impl.h"

#include "ipc/deliver_dsn.h"
#include "mail/address_quote.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <fmt/core.h>

#include <algorithm>

namespace pf::smtpd {

namespace {

// The reference's printable(text, ' '): bytes that are not printable
// ASCII become blanks (UTF-8 sequences stay with SMTPUTF8 support).
void make_printable(std::string& text, bool utf8) {
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f) {
            ++i;
            continue;
        }
        if (utf8 && c >= 0x80) {
            std::size_t n = util::utf8_sequence_length(std::string_view(text).substr(i));
            if (n > 0) {
                i += n;
                continue;
            }
        }
        text[i] = ' ';
        ++i;
    }
}

}  // namespace

// The reference's smtpd_dsn_fix(): an address-status code (X.1.Y) is
// mapped to its sender or recipient equivalent; in other contexts to 4.0.0.
std::string smtpd_dsn_fix(std::string_view status, std::string_view cls, std::vector<std::string>& log) {
    if (status.size() < 5 || status[0] < '0' || status[0] > '9' || status.substr(1, 3) != ".1.")
        return std::string(status);
    struct Row {
        std::string_view micro, sender, rcpt;
    };
    static constexpr Row rows[] = {
        {"1", "4.1.7", "4.1.1"}, {"2", "4.1.8", "4.1.2"}, {"3", "4.1.7", "4.1.3"}, {"4", "4.1.7", "4.1.4"},
        {"5", "4.1.0", "4.1.5"}, {"6", "4.1.7", "4.1.6"}, {"7", "4.1.7", "4.1.3"}, {"8", "4.1.8", "4.1.2"},
    };
    std::string_view result = "4.0.0";
    if (cls == reply_class::kSender || cls == reply_class::kRecipient) {
        std::string_view def = "4.1.0";
        result = def;
        for (const auto& r : rows)
            if (status.substr(4) == r.micro) {
                result = cls == reply_class::kSender ? r.sender : r.rcpt;
                break;
            }
    }
    std::string fixed = std::string(1, status[0]) + std::string(result.substr(1));
    if (status.substr(2) != result.substr(2))
        log.push_back(fmt::format("mapping DSN status {} into {} status {}", status, cls, fixed));
    return fixed;
}


void SmtpdCheck::Impl::log_whatsup(Eval& e, std::string_view whatsup, std::string_view text) {
    std::string line = fmt::format("{}: {}: {} from {}: {};", e.in.queue_id.empty() ? "NOQUEUE" : e.in.queue_id,
                                   whatsup, e.where, e.namaddr, text);
    auto external = [](const std::string& a) { return a.empty() ? a : mail::quote_822_local(a); };
    if (e.sender) line += fmt::format(" from=<{}>", external(*e.sender));
    if (e.recipient) line += fmt::format(" to=<{}>", external(*e.recipient));
    if (!e.in.protocol.empty()) line += fmt::format(" proto={}", e.in.protocol);
    if (e.helo) line += fmt::format(" helo=<{}>", *e.helo);
    e.out.log.push_back(std::move(line));
}

Status SmtpdCheck::Impl::acl_permit(Eval& e, std::string_view action, std::string_view reply_class,
                                    std::string_view reply_name, std::string_view extra) {
    if (defer_if_permit.active) return Status::ok;
    bool wanted = std::any_of(params.acl_permit_log.begin(), params.acl_permit_log.end(),
                              [&](const std::string& a) {
                                  return util::iequals(a, action) || util::iequals(a, "static:all");
                              });
    if (wanted) {
        // Always a blank before the optional part, even when it is empty.
        std::string text = fmt::format("action={} for {}={} {}", action, reply_class, reply_name, extra);
        log_whatsup(e, "permit", text);
    }
    return Status::ok;
}

Status SmtpdCheck::Impl::reject(Eval& e, std::string_view cls, int code, std::string_view dsn,
                                std::string_view text) {
    bool warn_only = warn_if_reject != 0 && cls != error_class::kSoftware && cls != error_class::kResource &&
                     cls != error_class::kData;
    std::string_view whatsup = warn_only ? "reject_warning" : "reject";

    error_text = fmt::format("{} {} {}", code, dsn, text);
    if (code < 400 || code > 599) {
        util::msg_warn("SMTP reply code configuration error: {}", error_text);
        error_text = "450 4.7.1 Service unavailable";
    }
    if (ipc::dsn_valid(std::string_view(error_text).substr(4)) == 0) {
        util::msg_warn("DSN detail code configuration error: {}", error_text);
        error_text = "450 4.7.1 Service unavailable";
    }
    make_printable(error_text, params.smtputf8_enable);

    if (!warn_only && defer_if_reject.active && error_text[0] == '5') {
        warn_if_reject = 0;
        defer_if_reject.active = false;
        Deferral d = defer_if_reject;
        return reject(e, d.error_class, d.code, d.dsn, d.reason);
    }
    if (params.soft_bounce && error_text[0] == '5') error_text[0] = '4';
    error_text[4] = error_text[0];

    log_whatsup(e, whatsup, error_text);
    if (warn_only) return Status::dunno;
    e.out.error_class = std::string(cls);
    return Status::reject;
}

Status SmtpdCheck::Impl::defer_if(Deferral& d, std::string_view cls, int code, std::string_view dsn,
                                  std::string text) {
    if (!d.active) {
        d.active = true;
        d.error_class = std::string(cls);
        d.code = code;
        d.dsn = std::string(dsn);
        d.reason = std::move(text);
    }
    return Status::dunno;
}

Status SmtpdCheck::Impl::defer_if_permit_or_reject(bool defer_if_permit_action, Eval& e, std::string_view cls,
                                                   int code, std::string_view dsn, std::string text) {
    if (warn_if_reject == 0 && defer_if_permit_action) return defer_if(defer_if_permit, cls, code, dsn, std::move(text));
    return reject(e, cls, code, dsn, text);
}

Status SmtpdCheck::Impl::dict_retry(Eval& e, std::string_view reply_name) {
    return reject(e, error_class::kData, 451, "4.3.0", fmt::format("<{}>: Temporary lookup failure", reply_name));
}

Status SmtpdCheck::Impl::server_error(Eval& e) {
    return reject(e, error_class::kSoftware, 451, "4.3.5", "Server configuration error");
}

}  // namespace pf::smtpd
