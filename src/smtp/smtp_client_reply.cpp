// SMTP client reply collection and EHLO keywords: see smtp_client_reply.h.
#include "smtp/smtp_client_reply.h"

#include "util/strings.h"

#include <cctype>
#include <utility>

namespace pf::smtp {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// D.DDD.DDD at the start of text, followed by a blank or the end.
std::size_t status_code_length(std::string_view text) {
    std::size_t i = 0;
    if (text.empty() || (text[0] != '2' && text[0] != '4' && text[0] != '5')) return 0;
    ++i;
    for (int part = 0; part < 2; ++part) {
        if (i >= text.size() || text[i] != '.') return 0;
        ++i;
        std::size_t start = i;
        while (i < text.size() && is_digit(text[i]) && i - start < 4) ++i;
        if (i == start || i - start > 3) return 0;
    }
    if (i < text.size() && text[i] != ' ' && text[i] != '\t') return 0;
    return i;
}

std::string fmt_class_status(int code) {
    int c = code / 100;
    if (c != 2 && c != 4 && c != 5) c = 5;
    return std::string(1, static_cast<char>('0' + c)) + ".0.0";
}

}  // namespace

std::string ClientReply::one_line() const {
    std::string out = text;
    for (char& c : out)
        if (c == '\n') c = ' ';
    return out;
}

bool ClientReplyBuilder::add_line(std::string_view line) {
    if (lines_ < kMaxReplyLines) {
        if (lines_ > 0) reply_.text += '\n';
        for (char c : line) reply_.text += (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) ? '?' : c;
    }
    ++lines_;
    if (line.size() >= 3 && is_digit(line[0]) && is_digit(line[1]) && is_digit(line[2])) {
        std::string_view rest = line.substr(3);
        if (!rest.empty() && rest[0] != ' ' && rest[0] != '-') return false;
        reply_.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (!have_first_) {
            have_first_ = true;
            first_text_ = std::string(rest.empty() ? rest : rest.substr(1));
        }
        return rest.empty() || rest[0] == ' ';
    }
    return false;
}

ClientReply ClientReplyBuilder::finish() {
    ClientReply out = std::move(reply_);
    std::string_view first = util::trim_left(first_text_);
    std::size_t n = status_code_length(first);
    if (n > 0 && out.code / 100 == first[0] - '0')
        out.dsn = std::string(first.substr(0, n));
    else
        out.dsn = fmt_class_status(out.code);
    return out;
}

std::expected<ClientReply, StreamError> read_client_reply(SmtpStream& stream, std::size_t line_limit) {
    ClientReplyBuilder builder;
    for (;;) {
        auto line = stream.read_line(line_limit, true);
        if (!line) return std::unexpected(line.error());
        if (builder.add_line(line->text)) break;
    }
    return builder.finish();
}

ServerFeatures parse_ehlo_features(std::string_view reply_text) {
    ServerFeatures f;
    f.flags |= kFeatureEsmtp;
    bool first = true;
    while (!reply_text.empty()) {
        std::size_t nl = reply_text.find('\n');
        std::string_view line = reply_text.substr(0, nl);
        reply_text = nl == std::string_view::npos ? std::string_view() : reply_text.substr(nl + 1);
        if (first) {
            first = false;
            if (line.size() > 4) {
                auto name = util::split_tokens(line.substr(4), " \t=");
                if (!name.empty()) f.helo = std::string(name[0]);
            }
            continue;
        }
        if (line.size() < 4) continue;
        auto words = util::split_tokens(line.substr(4), " \t=");
        if (words.empty()) continue;
        std::string key = util::to_lower(words[0]);
        if (key == "pipelining") f.flags |= kFeaturePipelining;
        else if (key == "size") {
            f.flags |= kFeatureSize;
            f.size_limit = 0;
            if (words.size() > 1) {
                std::uint64_t v = 0;
                bool ok = true;
                for (char c : words[1]) {
                    if (!is_digit(c) || v > (UINT64_MAX - 9) / 10) { ok = false; break; }
                    v = v * 10 + static_cast<std::uint64_t>(c - '0');
                }
                if (ok) f.size_limit = v;
            }
        } else if (key == "8bitmime") f.flags |= kFeature8BitMime;
        else if (key == "dsn") f.flags |= kFeatureDsn;
        else if (key == "smtputf8") f.flags |= kFeatureSmtpUtf8;
        else if (key == "starttls") f.flags |= kFeatureStartTls;
        else if (key == "enhancedstatuscodes") f.flags |= kFeatureEnhancedStatus;
        else if (key == "xforward") {
            f.flags |= kFeatureXforward;
            static constexpr std::pair<std::string_view, unsigned> kAttrs[] = {
                {"name", kXforwardName},   {"addr", kXforwardAddr},   {"port", kXforwardPort},
                {"proto", kXforwardProto}, {"helo", kXforwardHelo},   {"ident", kXforwardIdent},
                {"source", kXforwardSource},
            };
            for (std::size_t i = 1; i < words.size(); ++i) {
                std::string w = util::to_lower(words[i]);
                for (const auto& [attr, bit] : kAttrs)
                    if (w == attr) f.xforward |= bit;
            }
        }
        else if (key == "auth") {
            f.flags |= kFeatureAuth;
            for (std::size_t i = 1; i < words.size(); ++i) {
                if (!f.auth_mechanisms.empty()) f.auth_mechanisms += ' ';
                f.auth_mechanisms += words[i];
            }
        }
    }
    return f;
}

}  // namespace pf::smtp
