// The "rewrite" request: an address to the canonical user@domain form, as
// the reference's trivial-rewrite does it (source route stripped,
// site!user → user@site, user%site → user@site, @$myorigin and .$mydomain
// appended, one trailing dot dropped; the empty address and a lone "@"
// stay empty).
#include "trivial_rewrite.h"

#include "mail/address_quote.h"
#include "util/msg.h"

namespace pf::rewrite {

namespace {

void append_scanned(TokenList& l, std::string_view text) {
    for (auto& t : mail::scan_822(text)) l.push_back(std::move(t));
}

}  // namespace

void rewrite_tokens(TokenList& l, const RewriteContext& context, const RewriteSettings& s) {
    if (l.empty()) return;
    // The empty address stays empty; a lone "@" becomes empty.
    if (l.size() == 1 && l[0].kind == TokenKind::quoted_string && l[0].text.empty()) return;
    if (l.size() == 1 && is_op(l[0], '@')) {
        l[0] = AddressToken{TokenKind::quoted_string, 0, {}, {}};
        return;
    }
    // Source route "@a,@b:user@c" → "user@c".
    if (is_op(l.front(), '@')) {
        auto colon = find_op(l, ':');
        if (colon != std::string::npos && colon + 1 < l.size()) l.erase(l.begin(), l.begin() + static_cast<long>(colon) + 1);
    }
    if (rfind_op(l, '@') == std::string::npos) {
        std::size_t bang = s.swap_bangpath ? find_op(l, '!') : std::string::npos;
        std::size_t percent = s.percent_hack ? rfind_op(l, '%') : std::string::npos;
        if (bang != std::string::npos) {
            TokenList out(std::make_move_iterator(l.begin() + static_cast<long>(bang) + 1),
                          std::make_move_iterator(l.end()));
            out.push_back(AddressToken::special_token('@'));
            for (std::size_t i = 0; i < bang; ++i) out.push_back(std::move(l[i]));
            l = std::move(out);
        } else if (percent != std::string::npos) {
            l[percent].op = '@';
        } else if (s.append_at_myorigin && !context.origin.empty()) {
            l.push_back(AddressToken::special_token('@'));
            append_scanned(l, context.origin);
        }
    }
    if (s.append_dot_mydomain && !context.domain.empty()) {
        auto at = rfind_op(l, '@');
        if (at != std::string::npos && at + 1 < l.size()) {
            bool literal = false, dot = false;
            for (std::size_t i = at; i < l.size(); ++i) {
                if (l[i].kind == TokenKind::domain_literal) literal = true;
                if (is_op(l[i], '.')) dot = true;
            }
            if (!literal && !dot) {
                l.push_back(AddressToken::special_token('.'));
                append_scanned(l, context.domain);
            }
        }
    }
    // One trailing dot goes, but not ".." or "@.".
    if (l.size() >= 2 && is_op(l.back(), '.') && !is_op(l[l.size() - 2], '.') && !is_op(l[l.size() - 2], '@'))
        l.pop_back();
}

std::optional<std::string> rewrite_address(std::string_view rule, std::string_view external,
                                           const RewriteSettings& settings) {
    const RewriteContext* context = nullptr;
    if (rule == "local") context = &settings.local;
    else if (rule == "remote") context = &settings.remote;
    else {
        msg_warn("unknown context: {}", rule);
        return std::nullopt;
    }
    if (external.empty()) {
        msg_warn("rewrite_addr: null address");
        return std::string();
    }
    TokenList l = mail::scan_822_address(external);
    if (l.empty()) return mail::quote_822_local("");
    rewrite_tokens(l, *context, settings);
    return mail::quote_822_local(mail::internalize_822(l));
}

}  // namespace pf::rewrite
