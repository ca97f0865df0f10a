// The content segment in cleanup, as the reference's cleanup treats it:
// stray CR/LF become spaces; headers are collected (continuation lines
// joined, each header bounded by header_size_limit) and classified as
// primary, MIME (multipart) or nested (message/rfc822) headers; header
// checks run on each class with its own tables; known headers are counted
// (Received: against hopcount_limit), logged (message-id=), rewritten
// (sender and recipient addresses, canonical maps, masquerading, then
// folded), or dropped (message_drop_headers); at the end of the primary
// headers the missing Message-Id:, Date:, From: (and To: when
// undisclosed_recipients_header is set) are added, Resent- variants when
// the message has Resent- headers; a blank line separates the headers
// from a body that does not start with one; body lines go through
// body_checks (up to body_checks_size_limit per part).
#include "daemon/cleanup/cleanup_session.h"

#include "ipc/services.h"
#include "mail/address_list.h"
#include "mail/address_quote.h"
#include "mail/address_token.h"
#include "mail/header_action.h"
#include "mail/mail_date.h"
#include "mail/mime_state.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"

#include <ctime>
#include <fmt/format.h>

namespace pf::cleanup {

namespace rec = queue::rec;
using mail::HeaderType;
using util::msg_info;
using util::msg_warn;

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

std::uint64_t bit(HeaderType t) { return std::uint64_t{1} << static_cast<int>(t); }

// "X.Y.Z text" stays; other text gets the default DSN code in front.
std::string dsn_prepend(std::string_view def, std::string_view text) {
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    size_t i = 0;
    if (text.size() >= 5 && (text[0] == '2' || text[0] == '4' || text[0] == '5') && text[1] == '.') {
        i = 2;
        size_t n = 0;
        while (i < text.size() && digit(text[i]) && n < 3) ++i, ++n;
        if (n > 0 && i < text.size() && text[i] == '.') {
            ++i, n = 0;
            while (i < text.size() && digit(text[i]) && n < 3) ++i, ++n;
            if (n > 0 && (i == text.size() || blank(text[i]))) {
                std::string_view rest = text.substr(i);
                while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
                return fmt::format("{} {}", text.substr(0, i), rest);
            }
        }
    }
    return fmt::format("{} {}", def, text);
}

}  // namespace

void CleanupSession::act_log(std::string_view action, std::string_view context, std::string_view content,
                             std::string_view text) {
    auto attr = [&](std::string_view name) -> const std::string* {
        for (const auto& a : attrs_)
            if (a.first == name) return &a.second;
        return nullptr;
    };
    const std::string* origin = attr("log_message_origin");
    std::string line = fmt::format("{}: {}: {} {:.200} from {};", queue_id_, action, context, content,
                                   origin ? *origin : std::string("local"));
    if (have_sender_) line += fmt::format(" from=<{}>", sender_);
    if (have_recip_) line += fmt::format(" to=<{}>", recip_);
    if (const std::string* p = attr("log_protocol_name")) line += fmt::format(" proto={}", *p);
    if (const std::string* h = attr("log_helo_name")) line += fmt::format(" helo=<{}>", *h);
    if (!text.empty()) line += fmt::format(": {}", text);
    msg_info("{}", line);
}

bool CleanupSession::act(std::string_view context, std::string& text, std::string_view value,
                         std::string_view map_title) {
    const std::string content = text;
    mail::ParsedAction a = mail::parse_check_action(value);
    const std::string opt(a.text);
    constexpr unsigned kFilterAll = ipc::kCleanupFilter;
    switch (a.action) {
    case mail::CheckAction::reject:
        if (!opt.empty()) {
            reason_ = dsn_prepend("5.7.1", opt);
            if (reason_[0] != '4' && reason_[0] != '5') {
                msg_warn("bad DSN action in {} -- need 4.x.x or 5.x.x", opt);
                reason_[0] = '4';
            }
        } else {
            reason_ = "5.7.1 message content rejected";
        }
        errs_ |= reason_[0] == '4' ? ipc::kCleanupStatDefer : ipc::kCleanupStatCont;
        flags_ &= ~kFilterAll;
        act_log("reject", context, content, reason_);
        return true;
    case mail::CheckAction::warn: act_log("warning", context, content, opt); return true;
    case mail::CheckAction::info: act_log("info", context, content, opt); return true;
    case mail::CheckAction::filter:
        if (opt.empty()) {
            msg_warn("missing FILTER command argument in {} map", map_title);
        } else if (opt.find(':') == std::string::npos) {
            msg_warn("bad FILTER command {} in {} -- need transport:destination", opt, map_title);
        } else {
            filter_ = opt;
            act_log("filter", context, content, opt);
        }
        return true;
    case mail::CheckAction::pass:
        act_log("pass", context, content, opt);
        flags_ &= ~kFilterAll;
        return true;
    case mail::CheckAction::discard:
        act_log("discard", context, content, opt);
        flags_ |= kDiscard;
        flags_ &= ~kFilterAll;
        return true;
    case mail::CheckAction::hold:
        if (!(flags_ & (kHold | kDiscard))) {
            act_log("hold", context, content, opt);
            flags_ |= kHold;
        }
        return true;
    case mail::CheckAction::prepend:
        if (opt.empty()) {
            msg_warn("PREPEND action without text in {} map", map_title);
        } else if (context == "header") {
            if (!mail::is_header_text(opt)) {
                msg_warn("bad PREPEND header text \"{}\" in {} map -- need \"headername: headervalue\"", opt,
                         map_title);
            } else {
                act_log("prepend", context, content, opt);
                out_header(opt);
            }
        } else {
            act_log("prepend", context, content, opt);
            out(rec::kNorm, opt);
        }
        return true;
    case mail::CheckAction::replace:
        if (opt.empty()) {
            msg_warn("REPLACE action without text in {} map", map_title);
        } else if (context == "header" && !mail::is_header_text(opt)) {
            msg_warn("bad REPLACE header text \"{}\" in {} map -- need \"headername: headervalue\"", opt, map_title);
        } else {
            act_log("replace", context, content, opt);
            text = opt;
        }
        return true;
    case mail::CheckAction::redirect:
        if (opt.find('@') == std::string::npos) {
            msg_warn("bad REDIRECT target \"{}\" in {} map -- need user@domain", opt, map_title);
        } else {
            redirect_ = opt;
            act_log("redirect", context, content, opt);
            flags_ &= ~kFilterAll;
        }
        return true;
    case mail::CheckAction::bcc:
        if (opt.find('@') == std::string::npos) {
            msg_warn("bad BCC address \"{}\" in {} map -- need user@domain", opt, map_title);
        } else {
            hbc_rcpt_.push_back(opt);
            act_log("bcc", context, content, opt);
        }
        return true;
    case mail::CheckAction::strip: act_log("strip", context, content, opt); return false;
    case mail::CheckAction::ignore: return false;
    case mail::CheckAction::dunno:
    case mail::CheckAction::ok: return true;
    case mail::CheckAction::unknown: break;
    }
    msg_warn("unknown command in {} map: {}", map_title, value);
    return true;
}

void CleanupSession::out_header(std::string_view header) {
    // The reference writes a header as a C string: a NUL byte ends it,
    // continuation lines after it included.
    header = header.substr(0, header.find('\0'));
    detect_utf8(header, kUtf8Header);
    std::string_view rest = header;
    const size_t limit = static_cast<size_t>(s_.header_size_limit);
    bool first = true;
    size_t start_pos = 0;
    while (true) {
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        size_t line_pos = start_pos;
        if (line_pos + line.size() > limit) {
            if (line_pos > limit * 9 / 10) break;  // a nice cut at a line boundary
            line = line.substr(0, limit > line_pos ? limit - line_pos : 0);
            nl = std::string_view::npos;
        }
        if (first || (!line.empty() && blank(line.front()))) out(rec::kNorm, line);
        else out(rec::kNorm, fmt::format("\t{}", line));
        first = false;
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
        start_pos += nl + 1;
    }
}

std::string CleanupSession::rewrite_header(const mail::HeaderOpts& opts, std::string_view header, bool& changed) {
    changed = false;
    const unsigned klass = (opts.flags & mail::kHdrSender) ? kHdrFrom : kHdrRcpt;
    std::string_view value = header.substr(opts.name.size() + 1);
    std::string rewritten = mail::rewrite_header_addresses(value, [&](const std::string& internal) {
        std::string addr = rewrite_internal(hdr_rewrite_context_, internal);
        if (addr != internal) changed = true;
        if (apply_maps(addr, klass)) changed = true;
        return addr;
    });
    if (!changed) return std::string(header);
    // Header name, ": ", then the addresses one per line, joined again
    // into lines of up to about 70 bytes (the reference's folding).
    std::string text = fmt::format("{}: {}", header.substr(0, opts.name.size()),
                                   util::trim_left(rewritten, " \t"));
    size_t start_line = 0;
    for (size_t pos = text.find('\n'); pos != std::string::npos; pos = text.find('\n', pos + 1)) {
        size_t line = pos + 1;
        size_t end_line = text.find('\n', line);
        if (end_line == std::string::npos) end_line = text.size();
        if (end_line - start_line < 70) text[pos] = ' ';
        else start_line = line;
    }
    return text;
}

void CleanupSession::content_type(std::string_view value) {
    // type/subtype; parameters. Only what the state machine needs.
    auto lower = util::to_lower(util::trim(value));
    std::string_view v = lower;
    size_t semi = v.find(';');
    std::string type(util::trim(v.substr(0, semi)));
    std::string major = type.substr(0, type.find('/'));
    std::string minor = type.find('/') == std::string::npos ? "" : std::string(util::trim(type.substr(type.find('/') + 1)));
    if (major == "message") {
        mime_type_ = (minor == "rfc822" || minor == "global") ? MimeType::message : MimeType::other;
        message_sub_ = minor == "rfc822"          ? MessageSub::rfc822
                       : minor == "global"        ? MessageSub::global
                       : minor == "partial"       ? MessageSub::partial
                       : minor == "external-body" ? MessageSub::external_body
                                                  : MessageSub::other;
        return;
    }
    message_sub_ = MessageSub::none;
    if (major != "multipart") {
        mime_type_ = major == "text" ? MimeType::text : MimeType::other;
        return;
    }
    mime_type_ = MimeType::multipart;
    MimeType part_default = minor == "digest" ? MimeType::message : MimeType::text;
    // Parameters from the original (case kept) value.
    std::string_view params = value;
    size_t p = 0;
    while ((p = util::to_lower(params).find("boundary", p)) != std::string::npos) {
        size_t q = p + 8;
        while (q < params.size() && blank(params[q])) ++q;
        if (q >= params.size() || params[q] != '=') {
            p = q;
            continue;
        }
        ++q;
        while (q < params.size() && blank(params[q])) ++q;
        std::string b;
        if (q < params.size() && params[q] == '"') {
            ++q;
            while (q < params.size() && params[q] != '"') {
                if (params[q] == '\\' && q + 1 < params.size()) ++q;
                b += params[q++];
            }
        } else {
            while (q < params.size() && !blank(params[q]) && params[q] != ';' && params[q] != '\n') b += params[q++];
        }
        if (!b.empty()) boundaries_.push_back({b, part_default});
        p = q;
    }
}

void CleanupSession::content_encoding(std::string_view value) {
    // The first token after blanks and (comments); an unknown or quoted
    // value leaves the encoding as it was.
    size_t i = 0;
    int depth = 0;
    while (i < value.size()) {
        char c = value[i];
        if (depth > 0) {
            if (c == '\\') ++i;
            else if (c == '(') ++depth;
            else if (c == ')') --depth;
            ++i;
        } else if (c == '(') {
            ++depth, ++i;
        } else if (util::is_space(c)) {
            ++i;
        } else {
            break;
        }
    }
    static constexpr std::string_view kSpecials = "()<>@,;:\\\"/[]?=";
    size_t start = i;
    while (i < value.size() && !util::is_space(value[i]) && static_cast<unsigned char>(value[i]) > 31 &&
           value[i] != 127 && kSpecials.find(value[i]) == std::string_view::npos)
        ++i;
    std::string_view token = value.substr(start, i - start);
    if (token.empty()) return;
    static constexpr struct {
        std::string_view name;
        Encoding encoding, domain;
    } kEncodings[] = {
        {"7bit", Encoding::e7bit, Encoding::e7bit},
        {"8bit", Encoding::e8bit, Encoding::e8bit},
        {"binary", Encoding::binary, Encoding::binary},
        {"base64", Encoding::base64, Encoding::e7bit},
        {"quoted-printable", Encoding::qp, Encoding::e7bit},
    };
    for (const auto& e : kEncodings) {
        if (util::iequals(token, e.name)) {
            curr_encoding_ = e.encoding;
            curr_domain_ = e.domain;
            return;
        }
    }
}

namespace {

std::string_view encoding_name(int encoding) {
    static constexpr std::string_view kNames[] = {"7bit", "8bit", "binary", "base64", "quoted-printable"};
    return encoding >= 0 && encoding < 5 ? kNames[encoding] : "unknown";
}

bool has_8bit(std::string_view text) {
    for (char c : text)
        if (static_cast<unsigned char>(c) & 0x80) return true;
    return false;
}

// The reference's texts for the MIME errors, in its order of precedence.
constexpr struct {
    unsigned error;
    std::string_view text;
} kMimeErrorTexts[] = {
    {1u << 2, "improper use of 8-bit data in message header"},
    {1u << 3, "improper use of 8-bit data in message body"},
    {1u << 4, "invalid message/* or multipart/* encoding domain"},
};

}  // namespace

void CleanupSession::mime_error(unsigned error, std::string_view text) {
    if (mime_errs_ & error) return;
    mime_errs_ |= error;
    std::string_view what;
    for (const auto& e : kMimeErrorTexts)
        if (e.error == error) what = e.text;
    std::string_view origin = "local";
    for (const auto& a : attrs_)
        if (a.first == "log_message_origin") origin = a.second;
    msg_info("{}: reject: mime-error {}: {:.100} from {}; from=<{}> to=<{}>", queue_id_, what, text, origin, sender_,
             have_recip_ ? recip_ : std::string("unknown"));
}

void CleanupSession::mime_end_of_headers() {
    // Multipart and message/* entities must use an identity encoding
    // (partial and external-body: 7bit only).
    if (!(mime_opts_ & kMimeEncodingDomain)) return;
    const std::string_view name = encoding_name(static_cast<int>(curr_encoding_));
    if (message_sub_ == MessageSub::partial || message_sub_ == MessageSub::external_body) {
        if (curr_domain_ != Encoding::e7bit) mime_error(kMimeEncodingDomain, name);
    } else if (message_sub_ == MessageSub::rfc822 || mime_type_ == MimeType::multipart) {
        if (curr_encoding_ != curr_domain_) mime_error(kMimeEncodingDomain, name);
    }
}

void CleanupSession::process_header(Section section, std::string header) {
    const mail::HeaderOpts* opts = s_.header_opts.find_header(header);
    if (!s_.disable_mime && opts && opts->type == HeaderType::content_type)
        content_type(std::string_view(header).substr(header.find(':') + 1));
    if (!s_.disable_mime && opts && opts->type == HeaderType::content_transfer_encoding)
        content_encoding(std::string_view(header).substr(header.find(':') + 1));
    if ((mime_opts_ & kMime8bitHeader) && has_8bit(header)) mime_error(kMime8bitHeader, header);
    if (opts && (opts->flags & mail::kHdrMime)) section = Section::multipart;
    if (opts && opts->type == HeaderType::received) ++hop_count_;
    if (flags_ & ipc::kCleanupFilter) {
        const std::optional<mail::Maps>* checks = nullptr;
        std::string_view title;
        if (section == Section::primary) checks = &s_.header_checks, title = "header_checks";
        else if (section == Section::multipart) checks = &s_.mime_header_checks, title = "mime_header_checks";
        else checks = &s_.nested_header_checks, title = "nested_header_checks";
        if (*checks) {
            dict::LookupResult r = (*checks)->find(header);
            if (r.is_found()) {
                std::string text = header;
                if (!act("header", text, r.value(), title)) return;
                if (text != header) {
                    header = text;
                    opts = s_.header_opts.find_header(header);
                }
            } else if (r.is_error()) {
                msg_warn("{}: {} map lookup problem -- message not accepted, try again later", queue_id_, title);
                errs_ |= ipc::kCleanupStatWrite;
            }
        }
    }
    if (!opts) {
        out_header(header);
        return;
    }
    std::string_view hdrval = std::string_view(header).substr(std::min(header.size(), opts->name.size() + 1));
    while (!hdrval.empty() && util::is_space(hdrval.front())) hdrval.remove_prefix(1);
    if (opts->type == HeaderType::content_transfer_encoding &&
        (util::iequals(hdrval, "8bit") || util::iequals(hdrval, "binary")))
        encoding_ = "8bit";
    if (section != Section::primary) {
        out_header(header);
        return;
    }
    headers_seen_ |= bit(opts->type);
    if (opts->type == HeaderType::message_id) msg_info("{}: message-id={}", queue_id_, hdrval);
    if (opts->type == HeaderType::resent_message_id) msg_info("{}: resent-message-id={}", queue_id_, hdrval);
    if (opts->type == HeaderType::received && hop_count_ >= s_.hopcount_limit) {
        msg_warn("{}: message rejected: hopcount exceeded", queue_id_);
        errs_ |= ipc::kCleanupStatHops;
    }
    if (!out_ok()) return;
    if (opts->flags & mail::kHdrResent) resent_ = "Resent-";
    if ((opts->flags & (mail::kHdrSender | mail::kHdrRecip)) && hdr_rewrite_context_) {
        bool changed = false;
        std::string text = rewrite_header(*opts, header, changed);
        if (!(opts->flags & mail::kHdrDrop)) out_header(text);
    } else if (!(opts->flags & mail::kHdrDrop)) {
        out_header(header);
    }
}

void CleanupSession::headers_done() {
    primary_done_ = true;
    if (!out_ok()) return;
    if (hop_count_ < 1) {
        msg_warn("{}: message rejected: no Received: header", queue_id_);
        errs_ |= ipc::kCleanupStatBad;
        return;
    }
    const bool add = hdr_rewrite_context_ != nullptr || s_.always_add_missing_headers;
    const bool resent = *resent_ != 0;
    HeaderType want_id = resent ? HeaderType::resent_message_id : HeaderType::message_id;
    if (add && !(headers_seen_ & bit(want_id))) {
        std::string id;
        if (s_.long_queue_ids) {
            id = fmt::format("{}@{}", queue_id_, s_.myhostname);
        } else {
            std::tm tm{};
            std::time_t t = create_time_;
            gmtime_r(&t, &tm);
            char stamp[32];
            std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
            id = fmt::format("{}.{}@{}", stamp, queue_id_, s_.myhostname);
        }
        out(rec::kNorm, fmt::format("{}Message-Id: <{}>", resent_, id));
        msg_info("{}: {}message-id=<{}>", queue_id_, resent ? "resent-" : "", id);
        headers_seen_ |= bit(want_id);
    }
    if (!(headers_seen_ & bit(HeaderType::message_id))) msg_info("{}: message-id=<>", queue_id_);
    if (add && !(headers_seen_ & bit(resent ? HeaderType::resent_date : HeaderType::date)))
        out(rec::kNorm, fmt::format("{}Date: {}", resent_, mail::mail_date(arrival_seconds_)));
    if (add && !(headers_seen_ & bit(resent ? HeaderType::resent_from : HeaderType::from))) {
        std::string addr = mail::quote_822_local(sender_.empty() ? std::string("MAILER-DAEMON") : sender_);
        std::string line;
        if (!sender_.empty() && !fullname_.empty()) {
            std::string name = fullname_;
            for (char& c : name)
                if (c == '\r' || c == '\n') c = ' ';
            if (!s_.header_from_obsolete) {
                line = fmt::format("{}From: ", resent_);
                std::string phrase;
                if (name.find_first_of("%!()<>@,;:\\\".[]") == std::string::npos) {
                    phrase = mail::externalize_822(mail::scan_822(name));
                } else {
                    phrase = "\"";
                    for (char c : name) {
                        if (c == '"' || c == '\\') phrase += '\\';
                        phrase += c;
                    }
                    phrase += '"';
                }
                if (!phrase.empty()) line += phrase + " ";
                line += fmt::format("<{}>", addr);
            } else {
                line = fmt::format("{}From: {} ({})", resent_, addr, name);
            }
        } else {
            line = fmt::format("{}From: {}", resent_, addr);
        }
        out(rec::kNorm, line);
    }
    constexpr std::uint64_t kVisible = (std::uint64_t{1} << static_cast<int>(HeaderType::to)) |
                                       (std::uint64_t{1} << static_cast<int>(HeaderType::resent_to)) |
                                       (std::uint64_t{1} << static_cast<int>(HeaderType::cc)) |
                                       (std::uint64_t{1} << static_cast<int>(HeaderType::resent_cc));
    if (add && !(headers_seen_ & kVisible) && !s_.undisclosed_recipients_header.empty()) {
        if (!mail::is_header_text(s_.undisclosed_recipients_header))
            msg_warn("bad undisclosed_recipients_header header text \"{}\" -- need \"headername: headervalue\"",
                     s_.undisclosed_recipients_header);
        else
            out(rec::kNorm, s_.undisclosed_recipients_header);
    }
}

void CleanupSession::flush_header() {
    if (!header_line_open_ && header_.empty()) return;
    header_line_open_ = false;
    if (header_.empty()) return;
    std::string h = std::move(header_);
    header_.clear();
    header_truncated_ = false;
    process_header(section_, std::move(h));
}

void CleanupSession::body_record(char type, std::string_view data) {
    if ((mime_opts_ & kMime8bitBody) && curr_encoding_ == Encoding::e7bit && has_8bit(data))
        mime_error(kMime8bitBody, data);
    const bool line_start = body_line_start_;
    body_line_start_ = type == rec::kNorm;
    if (!s_.disable_mime && line_start && data.size() >= 2 && data[0] == '-' && data[1] == '-' &&
        !boundaries_.empty()) {
        for (size_t i = boundaries_.size(); i-- > 0;) {
            const std::string& b = boundaries_[i].text;
            if (data.substr(2, b.size()) != b) continue;
            MimeType part_default = boundaries_[i].part_default;
            boundaries_.resize(i + 1);
            if (data.substr(2 + b.size(), 2) == "--") {
                boundaries_.pop_back();
                mime_type_ = MimeType::other;
                message_sub_ = MessageSub::none;
            } else {
                section_ = Section::multipart;
                mime_type_ = part_default;
                message_sub_ = part_default == MimeType::message ? MessageSub::rfc822 : MessageSub::none;
            }
            mime_reset_encoding();
            body_offset_ = 0;
            break;
        }
    }
    if ((flags_ & ipc::kCleanupFilter) && s_.body_checks &&
        (s_.body_checks_size_limit == 0 || body_offset_ < s_.body_checks_size_limit)) {
        // A copy only here: an action may replace the line.
        std::string text(data);
        dict::LookupResult r = s_.body_checks->find(text);
        if (r.is_found()) {
            if (!act("body", text, r.value(), "body_checks")) {
                body_offset_ += static_cast<long>(data.size()) + (type == rec::kNorm ? 1 : 0);
                return;
            }
        } else if (r.is_error()) {
            msg_warn("{}: {} map lookup problem -- message not accepted, try again later", queue_id_, "body_checks");
            errs_ |= ipc::kCleanupStatWrite;
        }
        body_offset_ += static_cast<long>(data.size()) + (type == rec::kNorm ? 1 : 0);
        out(type, text);
        return;
    }
    body_offset_ += static_cast<long>(data.size()) + (type == rec::kNorm ? 1 : 0);
    out(type, data);
}

void CleanupSession::end_of_content() {
    flush_header();
    if (!primary_done_) headers_done();
    // A body that ends in the middle of a line (L last) is completed with
    // an empty N record, as the reference's MIME processor does.
    if (section_ != Section::primary && !body_line_start_) out(rec::kNorm, "");
    // A MIME error rejects the message unless a check gave a reason first.
    if (mime_errs_ && reason_.empty()) {
        for (const auto& e : kMimeErrorTexts) {
            if (mime_errs_ & e.error) {
                errs_ |= ipc::kCleanupStatCont;
                reason_ = fmt::format("5.6.0 {}", e.text);
                break;
            }
        }
    }
    xtra_offset_ = sink_.offset();
    cont_length_ = xtra_offset_ - data_offset_;
    stage_ = Stage::extracted;
    out(rec::kExtracted, "");
}

void CleanupSession::content_record(char type, std::string_view data) {
    if (type == rec::kExtracted) {
        end_of_content();
        return;
    }
    if (type != rec::kNorm && type != rec::kCont) {
        if (type == rec::kPadding) return;
        msg_warn("{}: message rejected: unexpected record type {} in message content", "cleanup_message_headerbody",
                 static_cast<int>(static_cast<unsigned char>(type)));
        errs_ |= ipc::kCleanupStatBad;
        return;
    }
    std::string buf;
    // (Two memchr scans: find_first_of would call memchr once per byte.)
    if (s_.replace_stray_cr_lf &&
        (data.find('\r') != std::string_view::npos || data.find('\n') != std::string_view::npos)) {
        buf.assign(data);
        for (char& c : buf)
            if (c == '\r' || c == '\n') c = ' ';
        data = buf;
    }
    const bool continues = line_continues_;
    line_continues_ = type == rec::kCont;
    if (section_ == Section::body) {
        body_record(type, data);
        return;
    }
    // Header sections.
    const size_t limit = static_cast<size_t>(s_.header_size_limit);
    if (continues) {
        if (header_line_open_) {
            if (header_.size() < limit) header_.append(data.substr(0, limit - header_.size()));
            return;
        }
        body_record(type, data);
        return;
    }
    if (!header_.empty() && !data.empty() && blank(data.front())) {
        if (header_.size() < limit) {
            header_ += '\n';
            header_.append(data.substr(0, limit - header_.size()));
        }
        header_line_open_ = true;
        return;
    }
    flush_header();
    if (size_t n = mail::header_name_length(data); n > 0) {
        header_.assign(data.substr(0, n));
        std::string_view rest = data.substr(data.find(':', n));
        header_.append(rest.substr(0, limit > header_.size() ? limit - header_.size() : 0));
        header_line_open_ = true;
        return;
    }
    // The end of a header block.
    const bool primary = section_ == Section::primary;
    if (primary) headers_done();
    mime_end_of_headers();
    if (!s_.disable_mime && mime_type_ == MimeType::message) {
        section_ = Section::nested;
        mime_type_ = MimeType::text;
        message_sub_ = MessageSub::none;
        mime_reset_encoding();
    } else {
        section_ = Section::body;
        if (mime_type_ == MimeType::multipart) mime_reset_encoding();  // the prolog
    }
    if (primary && !data.empty()) out(rec::kNorm, "");
    body_line_start_ = true;
    if (section_ == Section::body) {
        body_offset_ = 0;
        body_record(type, data);
    } else {
        // A nested header block starts right away unless this is its
        // separating line.
        if (data.empty()) {
            body_record(type, data);
        } else {
            line_continues_ = false;
            content_record(type, data);
        }
    }
}

}  // namespace pf::cleanup
