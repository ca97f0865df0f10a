// The smtp client's content rewriting: see smtp_content.h.
#include "daemon/smtp/smtp_content.h"

#include "mail/address_list.h"
#include "mail/header_action.h"
#include "mail/header_opts.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

namespace pf::smtp_agent {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

// The first token of a MIME header value (after blanks and comments),
// lower-cased; stops at blanks, ';', '/', '=' and comments.
std::string first_token(std::string_view& v) {
    for (;;) {
        while (!v.empty() && (blank(v.front()) || v.front() == '\n' || v.front() == '\r')) v.remove_prefix(1);
        if (v.empty() || v.front() != '(') break;
        int depth = 0;
        while (!v.empty()) {
            char c = v.front();
            v.remove_prefix(1);
            if (c == '\\' && !v.empty()) v.remove_prefix(1);
            else if (c == '(') ++depth;
            else if (c == ')' && --depth == 0) break;
        }
    }
    std::size_t n = 0;
    while (n < v.size() && !blank(v[n]) && v[n] != ';' && v[n] != '/' && v[n] != '=' && v[n] != '(' &&
           v[n] != '\n' && v[n] != '"')
        ++n;
    std::string tok = util::to_lower(v.substr(0, n));
    v.remove_prefix(n);
    return tok;
}

const mail::HeaderOptsTable& header_table() {
    static const mail::HeaderOptsTable table("");
    return table;
}

}  // namespace

std::vector<std::string> quoted_printable_line(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::vector<std::string> lines;
    std::string out;
    for (unsigned char ch : text) {
        if (out.size() > 72) {
            out += '=';
            lines.push_back(std::move(out));
            out.clear();
        }
        if ((ch < 32 && ch != '\t') || ch == '=' || ch > 126) {
            out += '=';
            out += kHex[(ch >> 4) & 0xf];
            out += kHex[ch & 0xf];
        } else {
            out += static_cast<char>(ch);
        }
    }
    if (!out.empty() && blank(out.back())) {
        unsigned char ch = static_cast<unsigned char>(out.back());
        out.pop_back();
        out += '=';
        out += kHex[(ch >> 4) & 0xf];
        out += kHex[ch & 0xf];
    }
    lines.push_back(std::move(out));
    return lines;
}

void SmtpContent::line(std::string_view text) {
    if (section_ == Section::body) {
        body_line(text);
        return;
    }
    if (have_header_ && !text.empty() && blank(text.front())) {
        header_ += '\n';
        header_ += text;
        return;
    }
    flush_header();
    std::string_view name = mail::header_line_name(text);
    if (!name.empty()) {
        // "Name :" becomes "Name:".
        std::string_view rest = text.substr(name.size());
        while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
        header_.assign(name);
        header_ += rest;
        have_header_ = true;
        return;
    }
    end_of_headers(text);
}

void SmtpContent::end() { flush_header(); }

void SmtpContent::flush_header() {
    if (!have_header_) return;
    have_header_ = false;
    std::string_view name = mail::header_line_name(header_);
    std::string_view value = std::string_view(header_).substr(name.size() + 1);
    bool is_cte = false;
    if (util::iequals(name, "Content-Type")) {
        content_type(value);
    } else if (util::iequals(name, "Content-Transfer-Encoding")) {
        is_cte = true;
        content_encoding(value);
    }
    if (is_cte && opts_.downgrade && eight_bit_) return;
    if (auto checked = check_header(header_); !checked) return;
    else if (*checked != header_) {
        emit_header(*checked);
        return;
    }
    if (opts_.generic && section_ == Section::primary) {
        const mail::HeaderOpts* info = header_table().find_name(name);
        if (info && (info->flags & (mail::kHdrSender | mail::kHdrRecip))) {
            bool found = false;
            std::string rewritten = mail::rewrite_header_addresses(
                value,
                [&](const std::string& internal) {
                    if (auto r = opts_.generic(internal)) {
                        found = true;
                        return *r;
                    }
                    return internal;
                },
                mail::kTokStrHeader);
            if (found) {
                std::string text = fmt::format("{}: {}", name, util::trim_left(rewritten, " \t"));
                // One address per line, joined again into lines of up to
                // about 70 bytes.
                std::size_t start = 0;
                for (std::size_t pos = text.find('\n'); pos != std::string::npos; pos = text.find('\n', pos + 1)) {
                    std::size_t next = pos + 1;
                    std::size_t end_line = text.find('\n', next);
                    if (end_line == std::string::npos) end_line = text.size();
                    if (end_line - start < 70) text[pos] = ' ';
                    else start = next;
                }
                bool first = true;
                for (std::string_view rest = text;;) {
                    std::size_t nl = rest.find('\n');
                    std::string_view l = rest.substr(0, nl);
                    if (first || (!l.empty() && blank(l.front()))) out_(l);
                    else out_("\t" + std::string(l));
                    first = false;
                    if (nl == std::string_view::npos) break;
                    rest.remove_prefix(nl + 1);
                }
                return;
            }
        }
    }
    emit_header(header_);
}

void SmtpContent::emit_header(const std::string& header) {
    std::string_view rest = header;
    for (;;) {
        std::size_t nl = rest.find('\n');
        out_(rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
    }
}

void SmtpContent::end_of_headers(std::string_view text) {
    if (opts_.downgrade && eight_bit_) {
        bool composite = (ctype_ == Ctype::message && stype_ != Stype::global) || ctype_ == Ctype::multipart;
        std::string cte = composite ? "Content-Transfer-Encoding: 7bit" : "Content-Transfer-Encoding: quoted-printable";
        if (auto checked = check_header(cte)) emit_header(*checked);
    }
    if (text.empty()) {
        if (ctype_ == Ctype::message) {
            if (stype_ == Stype::rfc822 || (stype_ == Stype::global && (!opts_.downgrade || !eight_bit_)))
                set_state(Section::nested, Ctype::text, Stype::plain);
            else
                section_ = Section::body;
        } else if (ctype_ == Ctype::multipart) {
            set_state(Section::body, Ctype::other, Stype::other);
        } else {
            section_ = Section::body;
        }
    } else {
        // Not a header and not the empty line: the primary headers get
        // their separator, other header blocks simply end.
        if (section_ == Section::primary) body_out("");
        section_ = Section::body;
    }
    body_line(text);
}

void SmtpContent::body_line(std::string_view text) {
    if (!stack_.empty() && text.size() > 2 && text[0] == '-' && text[1] == '-') {
        for (std::size_t k = stack_.size(); k-- > 0;) {
            const std::string& b = stack_[k].text;
            if (text.size() >= 2 + b.size() && text.compare(2, b.size(), b) == 0) {
                stack_.resize(k + 1);
                if (text.size() >= 4 + b.size() && text.compare(2 + b.size(), 2, "--") == 0) {
                    stack_.pop_back();
                    set_state(Section::body, Ctype::other, Stype::other);
                } else {
                    set_state(Section::part, stack_.back().def_ctype, stack_.back().def_stype);
                }
                break;
            }
        }
    }
    if (opts_.downgrade && eight_bit_) emit_qp(text);
    else body_out(text);
}

void SmtpContent::emit_qp(std::string_view text) {
    for (const auto& l : quoted_printable_line(text)) body_out(l);
}

void SmtpContent::body_out(std::string_view line) {
    if (!opts_.body_checks) {
        out_(line);
        return;
    }
    std::string l(line);
    auto found = opts_.body_checks->find(l);
    if (found.is_error()) {
        util::msg_warn("{}: smtp body checks lookup error", opts_.queue_id);
        failed_ = true;
        out_(line);
        return;
    }
    if (!found.is_found()) {
        out_(line);
        return;
    }
    if (auto r = apply_action(*opts_.body_checks, "body", found.value(), l, false)) out_(*r);
}

std::optional<std::string> SmtpContent::check_header(const std::string& header) {
    const mail::Maps* maps = section_ == Section::primary  ? opts_.header_checks
                             : section_ == Section::nested ? opts_.nested_header_checks
                                                           : opts_.mime_header_checks;
    // MIME headers count as MIME headers wherever they are.
    if (const mail::HeaderOpts* info = header_table().find_header(header); info && (info->flags & mail::kHdrMime))
        maps = opts_.mime_header_checks;
    if (!maps) return header;
    auto found = maps->find(header);
    if (found.is_error()) {
        util::msg_warn("{}: smtp header checks lookup error", opts_.queue_id);
        failed_ = true;
        return header;
    }
    if (!found.is_found()) return header;
    return apply_action(*maps, "header", found.value(), header, true);
}

std::optional<std::string> SmtpContent::apply_action(const mail::Maps& maps, const char* where,
                                                     const std::string& value, const std::string& line, bool header) {
    auto log = [&](const char* action, std::string_view text) {
        std::string_view content = std::string_view(line).substr(0, 60);
        if (!text.empty())
            util::msg_info("{}: {}: {} {}: {}", opts_.queue_id, action, where, content, text);
        else
            util::msg_info("{}: {}: {} {}", opts_.queue_id, action, where, content);
    };
    mail::ParsedAction a = mail::parse_check_action(value);
    std::string_view text = a.text;
    switch (a.action) {
        case mail::CheckAction::warn:
            log("warning", text);
            return line;
        case mail::CheckAction::info:
            log("info", text);
            return line;
        case mail::CheckAction::replace:
            if (text.empty()) {
                util::msg_warn("REPLACE action without text in {} map", maps.title());
                return line;
            }
            if (header && !mail::is_header_text(text)) {
                util::msg_warn("bad REPLACE header text \"{}\" in {} map -- need \"headername: headervalue\"", text,
                               maps.title());
                return line;
            }
            log("replace", text);
            return std::string(text);
        case mail::CheckAction::prepend:
            if (text.empty()) {
                util::msg_warn("PREPEND action without text in {} map", maps.title());
            } else if (header && !mail::is_header_text(text)) {
                util::msg_warn("bad PREPEND header text \"{}\" in {} map -- need \"headername: headervalue\"", text,
                               maps.title());
            } else {
                log("prepend", text);
                out_(text);
            }
            return line;
        case mail::CheckAction::strip:
            log("strip", text);
            return std::nullopt;
        case mail::CheckAction::ignore:
            return std::nullopt;
        case mail::CheckAction::dunno:
        case mail::CheckAction::ok:
            return line;
        default:
            util::msg_warn("unsupported command in {} map: {}", maps.title(), value);
            return line;
    }
}

void SmtpContent::content_encoding(std::string_view value) {
    std::string tok = first_token(value);
    if (tok == "7bit" || tok == "quoted-printable" || tok == "base64") eight_bit_ = false;
    else if (tok == "8bit" || tok == "binary") eight_bit_ = true;
}

void SmtpContent::content_type(std::string_view value) {
    std::string type = first_token(value);
    if (type.empty()) return;
    std::string sub;
    std::string_view rest = value;
    while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
    if (!rest.empty() && rest.front() == '/') {
        rest.remove_prefix(1);
        sub = first_token(rest);
    }
    if (type == "text") {
        ctype_ = Ctype::text;
        stype_ = sub == "plain" ? Stype::plain : Stype::other;
        return;
    }
    if (type == "message") {
        ctype_ = Ctype::message;
        stype_ = sub == "rfc822"          ? Stype::rfc822
                 : sub == "partial"       ? Stype::partial
                 : sub == "external-body" ? Stype::external_body
                 : sub == "global"        ? Stype::global
                                          : Stype::other;
        return;
    }
    if (type != "multipart") {
        ctype_ = Ctype::other;
        return;
    }
    ctype_ = Ctype::multipart;
    Ctype def_ctype = sub == "digest" ? Ctype::message : Ctype::text;
    Stype def_stype = sub == "digest" ? Stype::rfc822 : Stype::plain;
    // Every boundary= parameter counts.
    while (!rest.empty()) {
        std::size_t semi = rest.find(';');
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
        std::string_view param = rest;
        std::string pname = first_token(param);
        while (!param.empty() && blank(param.front())) param.remove_prefix(1);
        if (pname != "boundary" || param.empty() || param.front() != '=') continue;
        param.remove_prefix(1);
        while (!param.empty() && blank(param.front())) param.remove_prefix(1);
        std::string b;
        if (!param.empty() && param.front() == '"') {
            param.remove_prefix(1);
            while (!param.empty() && param.front() != '"') {
                if (param.front() == '\\' && param.size() > 1) param.remove_prefix(1);
                b += param.front();
                param.remove_prefix(1);
            }
        } else {
            while (!param.empty() && !blank(param.front()) && param.front() != ';' && param.front() != '\n')
                b += param.front(), param.remove_prefix(1);
        }
        if (stack_.size() < kMaxBoundaries) stack_.push_back({b, def_ctype, def_stype});
    }
}

}  // namespace pf::smtp_agent
