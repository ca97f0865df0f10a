// sendmail(1)'s message copy: see sendmail_message.h.
#include "cmd/sendmail/sendmail_message.h"

#include "mail/address_list.h"
#include "mail/mime_state.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>

#include <cctype>
#include <cstring>

namespace pf::sendmail {
namespace {

namespace rec = queue::rec;

constexpr int kNotifyNever = 1, kNotifySuccess = 2, kNotifyFailure = 4, kNotifyDelay = 8;

CopyError write_error() { return {CopyError::write, "error writing queue file: " + std::string(std::strerror(errno))}; }

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// One line of input the way the reference reads it: up to limit bytes;
// N when a LF ended it (LF not kept), L when the limit or the end of input
// cut it; nullopt at the end of input with nothing read.
std::optional<char> read_line(std::FILE* in, std::size_t limit, std::string& buf) {
    buf.clear();
    for (std::size_t n = 0; n < limit; ++n) {
        int ch = std::getc(in);
        if (ch == EOF) {
            if (buf.empty()) return std::nullopt;
            return rec::kCont;
        }
        if (ch == '\n') return rec::kNorm;
        buf.push_back(static_cast<char>(ch));
    }
    return rec::kCont;
}

// The recipient headers -t reads; resent tells Resent-* apart.
struct RecipientHeader {
    bool recipient = false;
    bool resent = false;
};

RecipientHeader classify(std::string_view name) {
    static constexpr std::string_view plain[] = {"To", "Cc", "Bcc"};
    static constexpr std::string_view resent[] = {"Resent-To", "Resent-Cc", "Resent-Bcc"};
    for (auto n : plain)
        if (iequal(n, name)) return {true, false};
    for (auto n : resent)
        if (iequal(n, name)) return {true, true};
    return {};
}

// The -t state: headers collected, recipients kept per kind.
class Extractor {
public:
    Extractor(const CopyOptions& opts, const RecordSink& sink) : opts_(opts), sink_(sink) {}

    std::expected<void, CopyError> record(char type, std::string_view text) {
        if (in_headers_) {
            if (!header_.empty()) {
                if (prev_type_ == rec::kCont || (!text.empty() && (text[0] == ' ' || text[0] == '\t'))) {
                    if (header_.size() >= opts_.header_limit) return truncated();
                    if (prev_type_ != rec::kCont) header_ += '\n';
                    header_.append(text);
                    prev_type_ = type;
                    return {};
                }
                if (auto r = flush_header(); !r) return r;
            }
            if (std::size_t len = mail::header_name_length(text); len > 0) {
                header_.assign(text.substr(0, len));
                std::size_t i = len;
                while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
                header_.append(text.substr(i));
                prev_type_ = type;
                return {};
            }
            in_headers_ = false;
            // Headers that end at anything but an empty line get one first.
            if ((type != rec::kNorm || !text.empty()) && !sink_(rec::kNorm, ""))
                return std::unexpected(write_error());
        }
        prev_type_ = type;
        if (!sink_(type, text)) return std::unexpected(write_error());
        return {};
    }

    std::expected<void, CopyError> end() {
        // A last line without LF is completed with an empty line first.
        if (prev_type_ == rec::kCont) {
            if (auto r = record(rec::kNorm, ""); !r) return r;
        }
        if (in_headers_ && !header_.empty()) return flush_header();
        return {};
    }

    const std::vector<std::string>& recipients() const { return resent_ ? resent_rcpt_ : rcpt_; }

private:
    std::expected<void, CopyError> truncated() {
        return std::unexpected(CopyError{CopyError::data,
                                         "unable to extract recipients: message header length exceeds safety limit"});
    }

    std::expected<void, CopyError> flush_header() {
        std::string header = std::move(header_);
        header_.clear();
        std::size_t colon = header.find(':');
        auto kind = classify(std::string_view(header).substr(0, colon));
        if (kind.recipient && (!resent_ || kind.resent)) {
            auto& list = kind.resent ? resent_rcpt_ : rcpt_;
            if (kind.resent) resent_ = true;
            for (auto& addr : mail::header_addresses(std::string_view(header).substr(colon + 1)))
                if (!addr.internal.empty()) list.push_back(addr.internal);
        }
        // Written back line by line, each cut at the line limit.
        std::string_view rest = header;
        for (;;) {
            std::size_t nl = rest.find('\n');
            std::string_view line = rest.substr(0, nl);
            while (line.size() > opts_.line_limit) {
                if (!sink_(rec::kCont, line.substr(0, opts_.line_limit))) return std::unexpected(write_error());
                line.remove_prefix(opts_.line_limit);
            }
            if (!sink_(rec::kNorm, line)) return std::unexpected(write_error());
            if (nl == std::string_view::npos) break;
            rest.remove_prefix(nl + 1);
        }
        return {};
    }

    const CopyOptions& opts_;
    const RecordSink& sink_;
    bool in_headers_ = true;
    char prev_type_ = 0;
    std::string header_;
    bool resent_ = false;
    std::vector<std::string> rcpt_;
    std::vector<std::string> resent_rcpt_;
};

}  // namespace

std::vector<std::string> parse_addresses(std::string_view text) {
    std::vector<std::string> out;
    for (auto& addr : mail::header_addresses(text)) out.push_back(addr.internal);
    return out;
}

int dsn_notify_mask(std::string_view text) {
    int mask = 0;
    for (auto word : util::split_tokens(text, ", \t\r\n")) {
        if (iequal(word, "NEVER")) mask |= kNotifyNever;
        else if (iequal(word, "SUCCESS")) mask |= kNotifySuccess;
        else if (iequal(word, "FAILURE")) mask |= kNotifyFailure;
        else if (iequal(word, "DELAY")) mask |= kNotifyDelay;
        else {
            util::msg_warn("unknown DSN NOTIFY command value \"{}\" in \"{}\"", word, text);
            return 0;
        }
    }
    if (mask == 0) return 0;
    if ((mask & kNotifyNever) && mask != kNotifyNever) return 0;
    return mask;
}

int dsn_ret_code(std::string_view text) {
    if (iequal(text, "FULL")) return 1;
    if (iequal(text, "HDRS")) return 2;
    return 0;
}

std::expected<int, CopyError> write_envelope(const Envelope& env, const RecordSink& sink) {
    auto put = [&](char type, std::string_view data) -> std::expected<void, CopyError> {
        if (!sink(type, data)) return std::unexpected(write_error());
        return {};
    };
    std::expected<void, CopyError> ok;
    if (env.dsn_envid && !(ok = put(rec::kAttr, "envelope_id=" + *env.dsn_envid))) return std::unexpected(ok.error());
    if (env.dsn_ret && !(ok = put(rec::kAttr, fmt::format("ret_flags={}", env.dsn_ret)))) return std::unexpected(ok.error());
    if (!(ok = put(rec::kAttr, "rewrite_context=" + env.rewrite_context))) return std::unexpected(ok.error());
    if (env.full_name && !(ok = put(rec::kFullName, *env.full_name))) return std::unexpected(ok.error());
    if (!(ok = put(rec::kFrom, env.sender))) return std::unexpected(ok.error());
    if (env.verp && env.sender.empty())
        return std::unexpected(CopyError{CopyError::usage, "-V option requires non-null sender address"});
    if (env.encoding && !(ok = put(rec::kAttr, "encoding=" + *env.encoding))) return std::unexpected(ok.error());
    if (env.trace_flags && !(ok = put(rec::kAttr, fmt::format("trace_flags={}", env.trace_flags))))
        return std::unexpected(ok.error());
    if (env.verp && !(ok = put(rec::kVerp, *env.verp))) return std::unexpected(ok.error());
    int count = 0;
    for (const auto& arg : env.recipients) {
        auto addrs = parse_addresses(arg);
        if (addrs.empty()) addrs.emplace_back();
        for (const auto& addr : addrs) {
            if (env.dsn_notify && !(ok = put(rec::kAttr, fmt::format("notify_flags={}", env.dsn_notify))))
                return std::unexpected(ok.error());
            if (!(ok = put(rec::kRcpt, addr))) return std::unexpected(ok.error());
            ++count;
        }
    }
    return count;
}

std::expected<int, CopyError> copy_content(std::FILE* in, const Envelope& env, const CopyOptions& opts,
                                           const RecordSink& sink) {
    if (!sink(rec::kMessage, "")) return std::unexpected(write_error());
    int extracted = 0;
    if (opts.probe) {
        if (opts.extract) return std::unexpected(CopyError{CopyError::usage, "-t option cannot be used with -bv"});
        bool ok = true;
        if (!env.sender.empty()) ok = sink(rec::kNorm, "From: " + env.sender);
        ok = ok && sink(rec::kNorm, "Subject: probe");
        if (ok && !env.recipients.empty()) {
            ok = sink(rec::kCont, "To:");
            for (std::size_t i = 0; ok && i < env.recipients.size(); ++i)
                ok = sink(rec::kNorm, "\t" + env.recipients[i] + (i + 1 < env.recipients.size() ? "," : ""));
        }
        if (!ok) return std::unexpected(write_error());
    } else {
        std::optional<Extractor> extractor;
        if (opts.extract) extractor.emplace(opts, sink);
        FixEol strip = opts.fix_eol;
        bool decided = strip != FixEol::strict;
        bool skip_from = true;
        char prev_type = 0;
        std::string buf;
        for (;;) {
            auto type = read_line(in, opts.line_limit, buf);
            if (!type) break;
            if (!decided && *type == rec::kNorm) {
                strip = (!buf.empty() && buf.back() == '\r') ? FixEol::always : FixEol::never;
                decided = true;
            }
            char this_type = *type;
            if (skip_from) {
                if (this_type == rec::kNorm) {
                    std::size_t i = buf.find_first_not_of('>');
                    if (i != std::string::npos && buf.compare(i, 5, "From ") == 0) {
                        prev_type = this_type;
                        continue;
                    }
                }
                skip_from = false;
            }
            if (decided && strip == FixEol::always && this_type == rec::kNorm)
                while (!buf.empty() && buf.back() == '\r') buf.pop_back();
            if (opts.archaic_eof && prev_type != rec::kCont && buf == ".") break;
            prev_type = this_type;
            if (extractor) {
                if (auto r = extractor->record(this_type, buf); !r) return std::unexpected(r.error());
            } else if (!sink(this_type, buf)) {
                return std::unexpected(write_error());
            }
        }
        if (extractor) {
            if (auto r = extractor->end(); !r) return std::unexpected(r.error());
        }
        if (std::ferror(in)) return std::unexpected(CopyError{CopyError::data, "error reading input: " + std::string(std::strerror(errno))});
        if (!sink(rec::kExtracted, "")) return std::unexpected(write_error());
        if (extractor) {
            for (const auto& rcpt : extractor->recipients()) {
                if (env.dsn_notify && !sink(rec::kAttr, fmt::format("notify_flags={}", env.dsn_notify)))
                    return std::unexpected(write_error());
                if (!sink(rec::kRcpt, rcpt)) return std::unexpected(write_error());
                ++extracted;
            }
        }
        return extracted;
    }
    if (!sink(rec::kExtracted, "")) return std::unexpected(write_error());
    return extracted;
}

}  // namespace pf::sendmail
