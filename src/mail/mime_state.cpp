// The reference's header/body/MIME segmentation; see mime_state.h.
#include "mail/mime_state.h"

#include <cctype>

namespace pf::mail {
namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

// One token of a structured header value (RFC 2045 rules): an atom, a quoted
// string, or one of the special characters.
struct Token {
    enum Kind { atom, quoted, special } kind;
    std::string value;  // the special character itself for specials
};

constexpr std::string_view kSpecials = "()<>@,;:\\\"/[]?=";

// The tokens up to the next ';' (consumed) or the end; comments are skipped.
// Returns false at the end of the value.
bool next_segment(std::string_view& s, std::vector<Token>& out) {
    out.clear();
    if (s.empty()) return false;
    while (!s.empty()) {
        char c = s.front();
        if (c == ';') {
            s.remove_prefix(1);
            return true;
        }
        if (std::isspace(static_cast<unsigned char>(c))) {
            s.remove_prefix(1);
        } else if (c == '(') {
            int level = 0;
            while (!s.empty()) {
                char d = s.front();
                s.remove_prefix(1);
                if (d == '\\' && !s.empty()) {
                    s.remove_prefix(1);
                } else if (d == '(') {
                    ++level;
                } else if (d == ')' && --level == 0) {
                    break;
                }
            }
        } else if (c == '"') {
            s.remove_prefix(1);
            std::string v;
            while (!s.empty() && s.front() != '"') {
                if (s.front() == '\\' && s.size() > 1) s.remove_prefix(1);
                v += s.front();
                s.remove_prefix(1);
            }
            if (!s.empty()) s.remove_prefix(1);
            out.push_back({Token::quoted, std::move(v)});
        } else if (kSpecials.find(c) != std::string_view::npos) {
            out.push_back({Token::special, std::string(1, c)});
            s.remove_prefix(1);
        } else {
            std::string v;
            while (!s.empty()) {
                char d = s.front();
                if (std::isspace(static_cast<unsigned char>(d)) || std::iscntrl(static_cast<unsigned char>(d)) ||
                    kSpecials.find(d) != std::string_view::npos)
                    break;
                v += d;
                s.remove_prefix(1);
            }
            if (v.empty()) {
                s.remove_prefix(1);  // a control character
                continue;
            }
            out.push_back({Token::atom, std::move(v)});
        }
    }
    return true;
}

bool atom_is(const Token& t, std::string_view text) { return t.kind == Token::atom && iequal(t.value, text); }
bool special_is(const Token& t, char c) { return t.kind == Token::special && t.value[0] == c; }

}  // namespace

size_t header_name_length(std::string_view text) {
    size_t len = 0;
    bool after_blank = false;
    for (char ch : text) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (c == ':') return len;
        if (c == ' ' || c == '\t') {
            if (len == 0) return 0;
            after_blank = true;
            continue;
        }
        if (c == 0 || c >= 0x80 || std::iscntrl(c) || after_blank) return 0;
        ++len;
    }
    return 0;
}

MimeState::MimeState(bool mime, size_t header_limit, Callbacks callbacks)
    : mime_(mime), header_limit_(header_limit), cb_(std::move(callbacks)) {}

HeaderClass MimeState::header_class() const {
    switch (section_) {
    case Section::part_headers: return HeaderClass::multipart;
    case Section::nested_headers: return HeaderClass::nested;
    default: return HeaderClass::primary;
    }
}

void MimeState::flush_header() {
    if (header_.empty()) return;
    if (mime_) {
        size_t n = header_name_length(header_);
        if (n > 0 && iequal(std::string_view(header_).substr(0, n), "content-type"))
            content_type(std::string_view(header_).substr(n + 1));
    }
    if (cb_.header) cb_.header(header_class(), header_);
    header_.clear();
}

void MimeState::content_type(std::string_view value) {
    std::vector<Token> tokens;
    if (!next_segment(value, tokens) || tokens.size() < 3 || !special_is(tokens[1], '/')) {
        type_ = Type::other;
        if (!tokens.empty() && atom_is(tokens[0], "text")) type_ = Type::text;
        return;
    }
    if (atom_is(tokens[0], "message")) {
        type_ = (atom_is(tokens[2], "rfc822") || atom_is(tokens[2], "global")) ? Type::message_rfc822 : Type::other;
        return;
    }
    if (atom_is(tokens[0], "multipart")) {
        type_ = Type::multipart;
        Type part_default = atom_is(tokens[2], "digest") ? Type::message_rfc822 : Type::text;
        while (next_segment(value, tokens)) {
            if (tokens.size() >= 3 && atom_is(tokens[0], "boundary") && special_is(tokens[1], '=') &&
                tokens[2].kind != Token::special)
                boundaries_.push_back({tokens[2].value, part_default});
        }
        return;
    }
    type_ = atom_is(tokens[0], "text") ? Type::text : Type::other;
}

void MimeState::end_of_headers(std::string_view text) {
    const bool primary = section_ == Section::primary_headers;
    if (primary && cb_.primary_header_end) cb_.primary_header_end();
    if (mime_ && type_ == Type::message_rfc822) {
        section_ = Section::nested_headers;
        type_ = Type::text;
    } else {
        section_ = Section::body;
    }
    if (text.empty()) {
        if (cb_.body) cb_.body(text);
        return;
    }
    if (primary && cb_.body) cb_.body({});
    line(text);
}

void MimeState::body_line(std::string_view text) {
    if (mime_ && text.size() >= 2 && text[0] == '-' && text[1] == '-') {
        for (size_t i = boundaries_.size(); i-- > 0;) {
            const std::string& b = boundaries_[i].text;
            if (text.substr(2, b.size()) != b) continue;
            Type part_default = boundaries_[i].part_default;
            boundaries_.resize(i + 1);
            if (text.substr(2 + b.size(), 2) == "--") {
                boundaries_.pop_back();
                section_ = Section::body;
                type_ = Type::other;
            } else {
                section_ = Section::part_headers;
                type_ = part_default;
            }
            break;
        }
    }
    if (cb_.body) cb_.body(text);
}

void MimeState::line(std::string_view text) {
    if (section_ == Section::body) {
        body_line(text);
        return;
    }
    if (!header_.empty() && !text.empty() && blank(text.front())) {
        if (header_.size() < header_limit_) {
            header_ += '\n';
            header_.append(text);
        }
        return;
    }
    flush_header();
    if (size_t n = header_name_length(text); n > 0) {
        header_.assign(text.substr(0, n));
        header_.append(text.substr(text.find(':', n)));
        return;
    }
    end_of_headers(text);
}

void MimeState::end() { flush_header(); }

}  // namespace pf::mail
