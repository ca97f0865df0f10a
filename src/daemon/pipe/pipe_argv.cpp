// pipe(8) argv= macro expansion (pipe_argv.h).
#include "pipe_argv.h"

#include "pipe_attr.h"

#include "mail/address_fold.h"
#include "mail/address_quote.h"
#include "util/strings.h"

#include <fmt/core.h>

#include <array>
#include <map>

namespace pf::pipe {

namespace {

enum RcptMacro : unsigned {
    kMacroRcpt = 1u << 0,
    kMacroUser = 1u << 1,
    kMacroExtension = 1u << 2,
    kMacroMailbox = 1u << 3,
    kMacroDomain = 1u << 4,
    kMacroOrigRcpt = 1u << 5,
};

struct KnownMacro {
    std::string_view name;
    unsigned rcpt_bit;
};

constexpr std::array<KnownMacro, 18> kMacros{{
    {"nexthop", 0},
    {"recipient", kMacroRcpt},
    {"original_recipient", kMacroOrigRcpt},
    {"sender", 0},
    {"user", kMacroUser},
    {"extension", kMacroExtension},
    {"mailbox", kMacroMailbox},
    {"domain", kMacroDomain},
    {"size", 0},
    {"client_address", 0},
    {"client_hostname", 0},
    {"client_port", 0},
    {"client_protocol", 0},
    {"client_helo", 0},
    {"sasl_method", 0},
    {"sasl_username", 0},
    {"sasl_sender", 0},
    {"queue_id", 0},
}};

struct Piece {
    bool is_macro = false;
    std::string text;  // literal text or macro name
};

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Splits one word into literals and macro names; false with a warning on
// a truncated reference or an empty name.
bool parse_word(std::string_view word, std::vector<Piece>& out, const WarnFn& warn) {
    std::string literal;
    std::size_t i = 0;
    while (i < word.size()) {
        if (word[i] != '$') {
            literal.push_back(word[i++]);
            continue;
        }
        if (i + 1 < word.size() && word[i + 1] == '$') {
            literal.push_back('$');
            i += 2;
            continue;
        }
        if (!literal.empty()) out.push_back(Piece{false, std::move(literal)});
        literal.clear();
        ++i;
        std::string name;
        if (i < word.size() && (word[i] == '{' || word[i] == '(')) {
            char open = word[i];
            char close = open == '{' ? '}' : ')';
            int level = 1;
            std::size_t start = ++i;
            std::size_t end = start;
            for (; level > 0; ++end) {
                if (end >= word.size()) {
                    warn(fmt::format("truncated macro reference: \"{}\"", word));
                    return false;
                }
                if (word[end] == open) ++level;
                if (word[end] == close) --level;
            }
            name = std::string(word.substr(start, end - start - 1));
            i = end;
        } else {
            std::size_t start = i;
            while (i < word.size() && is_name_char(word[i])) ++i;
            name = std::string(word.substr(start, i - start));
        }
        if (name.empty()) {
            warn(fmt::format("empty macro name: \"{}\"", word));
            return false;
        }
        out.push_back(Piece{true, std::move(name)});
    }
    if (!literal.empty()) out.push_back(Piece{false, std::move(literal)});
    return true;
}

std::string fold(std::string_view address, unsigned flags) {
    bool user = flags & kFlagFoldUser;
    bool host = flags & kFlagFoldHost;
    if (!user && !host) return std::string(address);
    auto at = address.rfind('@');
    if (at == std::string_view::npos) return user ? util::to_lower(address) : std::string(address);
    std::string local(address.substr(0, at));
    std::string domain(address.substr(at + 1));
    if (user) local = util::to_lower(local);
    if (host) domain = util::to_lower(domain);
    return local + "@" + domain;
}

// The reference's recipient "morphing": quote (q) then fold (u, h).
std::string morph(std::string_view address, unsigned flags) {
    std::string quoted = (flags & kFlagQuoteLocal) ? mail::quote_822_local(address) : std::string(address);
    return fold(quoted, flags);
}

}  // namespace

std::string pipe_sender(const ipc::DeliveryRequest& request, const MacroContext& ctx) {
    const std::string& sender = request.sender.empty() ? ctx.null_sender : request.sender;
    if (!sender.empty() && (ctx.flags & kFlagQuoteLocal)) return mail::quote_822_local(sender);
    return sender;
}

std::expected<std::vector<std::string>, std::string> expand_pipe_argv(const std::vector<std::string>& command,
                                                                      const ipc::DeliveryRequest& request,
                                                                      const MacroContext& ctx, const WarnFn& warn) {
    std::map<std::string, std::string, std::less<>> values;
    values["sender"] = pipe_sender(request, ctx);
    values["nexthop"] = (ctx.flags & kFlagFoldHost) ? util::to_lower(request.nexthop) : request.nexthop;
    values["size"] = fmt::format("{}", request.data_size);
    values["client_address"] = request.client_addr;
    values["client_helo"] = request.client_helo;
    values["client_hostname"] = request.client_name;
    values["client_port"] = request.client_port;
    values["client_protocol"] = request.client_proto;
    values["sasl_method"] = request.sasl_method;
    values["sasl_username"] = request.sasl_username;
    values["sasl_sender"] = request.sasl_sender;
    values["queue_id"] = request.queue_id;

    const unsigned fold_only = ctx.flags & (kFlagFoldUser | kFlagFoldHost);
    mail::DelimiterOptions delim_options{ctx.double_bounce_sender, ctx.owner_request_special};
    std::vector<std::string> result;
    for (const auto& word : command) {
        std::vector<Piece> pieces;
        if (!parse_word(word, pieces, warn)) return std::unexpected(std::string("bad macro reference"));
        unsigned uses = 0;
        for (const auto& p : pieces) {
            if (!p.is_macro) continue;
            const KnownMacro* known = nullptr;
            for (const auto& m : kMacros)
                if (m.name == p.text) known = &m;
            if (!known) {
                warn(fmt::format("file {}/master.cf: service {}: unknown macro name: \"{}\"", ctx.config_directory,
                                 ctx.service, p.text));
                return std::unexpected(fmt::format("unknown macro name: {}", p.text));
            }
            uses |= known->rcpt_bit;
        }
        auto substitute = [&]() {
            std::string out;
            for (const auto& p : pieces) out += p.is_macro ? values[p.text] : p.text;
            return out;
        };
        if (uses == 0) {
            result.push_back(substitute());
            continue;
        }
        for (const auto& rcpt : request.recipients) {
            if (uses & kMacroRcpt) values["recipient"] = morph(rcpt.address, ctx.flags);
            if (uses & kMacroOrigRcpt) values["original_recipient"] = morph(rcpt.orig_addr, ctx.flags);
            if (uses & (kMacroUser | kMacroExtension | kMacroMailbox | kMacroDomain)) {
                std::string folded = fold(rcpt.address, fold_only);
                auto at = folded.rfind('@');
                if (at == std::string::npos) warn(fmt::format("no @ in recipient address: {}", rcpt.address));
                std::string local = at == std::string::npos ? folded : folded.substr(0, at);
                std::string domain = at == std::string::npos ? std::string() : folded.substr(at + 1);
                auto split = ctx.recipient_delimiter.empty()
                                 ? std::nullopt
                                 : mail::split_recipient_delimiter(local, ctx.recipient_delimiter, delim_options);
                if (uses & kMacroUser) {
                    std::string user = split ? std::string(split->user) : local;
                    if (user.empty()) continue;  // the reference drops this word
                    values["user"] = user;
                }
                if (uses & kMacroExtension) values["extension"] = split ? std::string(split->extension) : std::string();
                if (uses & kMacroMailbox) values["mailbox"] = local;
                if (uses & kMacroDomain) values["domain"] = domain;
            }
            result.push_back(substitute());
        }
    }
    return result;
}

}  // namespace pf::pipe
