// Address lookups with the reference's search order; see mail_addr_find.h.
#include "mail/mail_addr_find.h"

#include "mail/address_fold.h"
#include "mail/address_list.h"
#include "util/strings.h"

namespace pf::mail {

namespace {

AddrFindResult from_lookup(const dict::LookupResult& r) {
    AddrFindResult out;
    if (r.is_found()) {
        out.status = AddrFindResult::Status::found;
        out.value = r.value();
    } else if (r.is_error()) {
        out.status = AddrFindResult::Status::error;
    }
    return out;
}

}  // namespace

AddrFindResult mail_addr_find(const Maps& maps, std::string_view address, const AddrFindContext& ctx) {
    const std::string full = fold_address(address);
    std::optional<std::string> bare;
    std::string extension;
    SplitAddress parts = split_address(full);
    if (auto d = split_recipient_delimiter(parts.local, ctx.recipient_delimiter)) {
        extension = std::string(1, d->delimiter) + std::string(d->extension);
        bare = std::string(d->user) + (parts.has_at ? "@" + std::string(parts.domain) : "");
    }
    AddrFindResult r = from_lookup(maps.find(full, false));
    if (r.status != AddrFindResult::Status::not_found) return r;
    if (bare) {
        r = from_lookup(maps.find(*bare, true));
        if (r.status == AddrFindResult::Status::found) r.extension = extension;
        if (r.status != AddrFindResult::Status::not_found) return r;
    }
    if (parts.has_at) {
        bool local = util::iequals(parts.domain, ctx.myorigin) || (ctx.is_local && ctx.is_local(parts.domain));
        if (local) {
            r = from_lookup(maps.find(parts.local, true));
            if (r.status != AddrFindResult::Status::not_found) return r;
            if (bare) {
                SplitAddress bp = split_address(*bare);
                r = from_lookup(maps.find(bp.local, true));
                if (r.status == AddrFindResult::Status::found) r.extension = extension;
                if (r.status != AddrFindResult::Status::not_found) return r;
            }
        }
        r = from_lookup(maps.find("@" + std::string(parts.domain), true));
        if (r.status != AddrFindResult::Status::not_found) return r;
    }
    return {};
}

std::optional<std::vector<std::string>> mail_addr_map(const Maps& maps, std::string_view address, bool propagate,
                                                      const AddrFindContext& ctx,
                                                      const std::function<std::string(const std::string&)>& qualify,
                                                      bool* error) {
    if (error) *error = false;
    AddrFindResult r = mail_addr_find(maps, address, ctx);
    if (r.status == AddrFindResult::Status::error) {
        if (error) *error = true;
        return std::nullopt;
    }
    if (r.status == AddrFindResult::Status::not_found) return std::nullopt;
    std::string value = r.value;
    if (!value.empty() && value.front() == '@') {
        SplitAddress parts = split_address(address);
        std::string local(parts.local);
        if (!r.extension.empty() && local.size() >= r.extension.size()) local.resize(local.size() - r.extension.size());
        value = local + value;
    }
    std::vector<std::string> out;
    for (const HeaderAddress& a : header_addresses(value)) {
        if (a.external.empty()) continue;
        std::string addr = a.external;
        if (qualify) addr = qualify(addr);
        if (propagate && !r.extension.empty()) {
            size_t at = addr.rfind('@');
            if (at == std::string::npos) addr += r.extension;
            else addr.insert(at, r.extension);
        }
        out.push_back(std::move(addr));
    }
    if (out.empty()) out.push_back(value);
    return out;
}

std::function<bool(std::string_view)> mydestination_test(std::string_view mydestination) {
    std::vector<std::string> local_domains;
    for (std::string_view d : util::split_tokens(mydestination, ", \t\r\n")) local_domains.push_back(util::to_lower(d));
    return [local_domains = std::move(local_domains)](std::string_view domain) {
        for (const std::string& d : local_domains)
            if (util::iequals(d, domain)) return true;
        return false;
    };
}

}  // namespace pf::mail
