// Ordered table lists and the address lookup strategies; see
// address_maps.h (the reference's maps_find and mail_addr_find).
#include "mail/address_maps.h"
#include "mail/address_surrogate.h"

#include "dict/dict_registry.h"
#include "mail/address_fold.h"
#include "mail/address_quote.h"
#include "util/brace_tokens.h"
#include "util/msg.h"

#include <fcntl.h>

#include <stdexcept>

namespace pf::mail {

using util::msg_warn;
using util::msg_info;
using util::msg_panic;

AddressMaps::AddressMaps(std::string title, std::string_view names, dict::Flags extra_flags)
    : title_(std::move(title)) {
    dict::register_builtin_types();
    for (const auto& name : util::split_braced_list(names)) {
        auto opened = open_table_or_surrogate(name, O_RDONLY, dict::kLock | dict::kFoldFixed | extra_flags);
        if (!opened) throw std::runtime_error(opened.error());
        tables_.push_back(std::shared_ptr<dict::Dict>(std::move(*opened)));
    }
}

AddressMaps::~AddressMaps() = default;
AddressMaps::AddressMaps(AddressMaps&&) noexcept = default;
AddressMaps& AddressMaps::operator=(AddressMaps&&) noexcept = default;

dict::LookupResult AddressMaps::search(std::string_view key, bool exact_only) const {
    if (key.empty()) return dict::LookupResult::not_found();
    for (const auto& t : tables_) {
        if (exact_only && !(t->flags() & dict::kFixed)) continue;
        auto r = t->lookup(key);
        if (r.is_found()) {
            if (r.value().empty()) {
                msg_warn("{} lookup of {} returns an empty string result", title_, key);
                msg_warn("{} should return NO RESULT in case of NOT FOUND", title_);
                return dict::LookupResult::failed({dict::Error::Kind::config, "empty result"});
            }
            return r;
        }
        if (r.is_error()) {
            msg_warn("{}:{} lookup error for \"{}\"", t->type(), t->name(), key);
            return r;
        }
    }
    return dict::LookupResult::not_found();
}

dict::LookupResult AddressMaps::find_address(std::string_view address, unsigned strategy,
                                             const AddressContext& ctx) const {
    using dict::LookupResult;
    // One address key: external form first, then internal when different.
    auto find_form = [&](const std::string& key, bool exact_only, bool with_domain) -> LookupResult {
        std::string ext = quote_822_local(key, with_domain ? kQuoteDefault : kQuoteDefault | kQuoteBareLocalpart);
        auto r = search(ext, exact_only);
        if (!r.is_not_found() || ext == key) return r;
        return search(key, exact_only);
    };
    const std::string full(address);
    std::optional<std::string> bare;
    if (!ctx.recipient_delimiter.empty() && (strategy & kFindNoExt))
        bare = strip_address_extension(full, ctx.recipient_delimiter);

    LookupResult r = LookupResult::not_found();
    if (strategy & kFindFull) r = find_form(full, false, true);
    if (r.is_not_found() && bare) r = find_form(*bare, true, true);
    if (!r.is_not_found()) return r;

    auto at = full.rfind('@');
    if (at == std::string::npos) return r;
    std::string_view domain = std::string_view(full).substr(at + 1);

    if (strategy & (kFindLocalpartIfLocal | kFindLocalpartAtIfLocal)) {
        int local = 0;
        if (lowercase_ascii(domain) == lowercase_ascii(ctx.myorigin)) local = 1;
        else if (ctx.is_local) local = ctx.is_local(domain);
        if (local < 0) return LookupResult::failed({dict::Error::Kind::retry, "local domain lookup"});
        if (local > 0) {
            auto try_local = [&](bool keep_at) -> LookupResult {
                auto cut = [&](const std::string& a) {
                    auto p = a.rfind('@');
                    return a.substr(0, keep_at ? p + 1 : p);
                };
                auto res = find_form(cut(full), true, keep_at);
                if (res.is_not_found() && bare) res = find_form(cut(*bare), true, keep_at);
                return res;
            };
            if (strategy & kFindLocalpartIfLocal) r = try_local(false);
            if (r.is_not_found() && (strategy & kFindLocalpartAtIfLocal)) r = try_local(true);
            if (!r.is_not_found()) return r;
        }
    }
    if (strategy & kFindAtDomain) {
        r = search(std::string_view(full).substr(at), true);
        if (!r.is_not_found()) return r;
    }
    if (strategy & kFindDomain) {
        std::size_t pos = 0;
        while (pos < domain.size()) {
            r = search(domain.substr(pos), true);
            if (!r.is_not_found()) return r;
            if (!(strategy & (kFindParentDomain | kFindDotParentDomain))) break;
            auto next = domain.find('.', pos + 1);
            if (next == std::string_view::npos) break;
            pos = (strategy & kFindDotParentDomain) ? next : next + 1;
        }
    }
    return r;
}

}  // namespace pf::mail
