// UTS #46 ToASCII of domain names through ICU, cached; see address_idna.h.
// ICU is looked up in libicuuc at the first conversion (dlopen), as the
// table keys' case folding does (dict/dict_utf8.cpp), so that a program
// that converts no name never loads it: trivial-rewrite converts only with
// smtputf8_enable = yes, when the daemon skeleton has already loaded
// libicuuc before the chroot (dict::set_utf8_support), and the loader then
// finds that copy by its soname.
#include "mail/address_idna.h"

#include "config/mail_params.h"
#include "util/msg.h"
#include "util/icu_library.h"
#include "util/utf8.h"

#include <unicode/uidna.h>
#include <unicode/utypes.h>

#include <list>
#include <map>
#include <utility>

namespace pf::mail {

namespace {

bool g_transitional = false;
constexpr std::size_t kCacheSize = 256;

struct Cache {
    // Most recent first; the map points into the list.
    std::list<std::pair<std::string, std::optional<std::string>>> order;
    std::map<std::string, decltype(order)::iterator, std::less<>> index;
};

Cache& cache() {
    static Cache c;
    return c;
}

struct IcuIdna {
    decltype(&::uidna_openUTS46) open;
    decltype(&::uidna_close) close;
    decltype(&::uidna_nameToASCII_UTF8) to_ascii;
    decltype(&::u_errorName) error_name;
};

const IcuIdna& icu() {
    static const IcuIdna f = [] {
        IcuIdna r{};
        util::bind_icu_function(r.open, PF_ICU_SYMBOL(uidna_openUTS46));
        util::bind_icu_function(r.close, PF_ICU_SYMBOL(uidna_close));
        util::bind_icu_function(r.to_ascii, PF_ICU_SYMBOL(uidna_nameToASCII_UTF8));
        util::bind_icu_function(r.error_name, PF_ICU_SYMBOL(u_errorName));
        return r;
    }();
    return f;
}

// The names of the UIDNA_ERROR_* bits, comma-separated; unknown bits as a
// hex number; ICU's error name when no bit is set.
std::string idna_error_text(UErrorCode error, uint32_t errors) {
    static constexpr std::pair<uint32_t, const char*> kNames[] = {
        {UIDNA_ERROR_EMPTY_LABEL, "UIDNA_ERROR_EMPTY_LABEL"},
        {UIDNA_ERROR_LABEL_TOO_LONG, "UIDNA_ERROR_LABEL_TOO_LONG"},
        {UIDNA_ERROR_DOMAIN_NAME_TOO_LONG, "UIDNA_ERROR_DOMAIN_NAME_TOO_LONG"},
        {UIDNA_ERROR_LEADING_HYPHEN, "UIDNA_ERROR_LEADING_HYPHEN"},
        {UIDNA_ERROR_TRAILING_HYPHEN, "UIDNA_ERROR_TRAILING_HYPHEN"},
        {UIDNA_ERROR_HYPHEN_3_4, "UIDNA_ERROR_HYPHEN_3_4"},
        {UIDNA_ERROR_LEADING_COMBINING_MARK, "UIDNA_ERROR_LEADING_COMBINING_MARK"},
        {UIDNA_ERROR_DISALLOWED, "UIDNA_ERROR_DISALLOWED"},
        {UIDNA_ERROR_PUNYCODE, "UIDNA_ERROR_PUNYCODE"},
        {UIDNA_ERROR_LABEL_HAS_DOT, "UIDNA_ERROR_LABEL_HAS_DOT"},
        {UIDNA_ERROR_INVALID_ACE_LABEL, "UIDNA_ERROR_INVALID_ACE_LABEL"},
        {UIDNA_ERROR_BIDI, "UIDNA_ERROR_BIDI"},
        {UIDNA_ERROR_CONTEXTJ, "UIDNA_ERROR_CONTEXTJ"},
    };
    if (errors == 0) return icu().error_name(error);
    std::string out;
    for (auto [bit, name] : kNames) {
        if (errors & bit) {
            if (!out.empty()) out += ',';
            out += name;
            errors &= ~bit;
        }
    }
    if (errors) {
        if (!out.empty()) out += ',';
        out += fmt::format("0x{:x}", errors);
    }
    return out;
}

std::optional<std::string> convert(std::string_view name) {
    static constexpr std::string_view kWho = "midna_domain_to_ascii_create";
    auto problem = [&](std::string_view why) {
        util::msg_warn("{}: Problem translating domain \"{}\" to ASCII form: {}", kWho, name.substr(0, 100), why);
        return std::nullopt;
    };
    // ICU never sees malformed UTF-8.
    if (!util::all_ascii(name) && !util::valid_utf8(name)) return problem("malformed UTF-8");
    UErrorCode error = U_ZERO_ERROR;
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    const IcuIdna& lib = icu();
    UIDNA* idna = lib.open(g_transitional ? UIDNA_DEFAULT : UIDNA_NONTRANSITIONAL_TO_ASCII, &error);
    char buf[1024];
    int32_t n = 0;
    if (U_SUCCESS(error))
        n = lib.to_ascii(idna, name.data(), static_cast<int32_t>(name.size()), buf, sizeof buf - 1, &info,
                                   &error);
    if (idna) lib.close(idna);
    if (U_SUCCESS(error) && info.errors == 0 && n > 0) {
        std::string out(buf, static_cast<std::size_t>(n));
        if (!config::valid_hostname(out, false)) return problem("malformed ASCII label(s)");
        return out;
    }
    return problem(idna_error_text(error, info.errors));
}

}  // namespace

void idna_set_transitional(bool on) { g_transitional = on; }

std::optional<std::string> idna_domain_to_ascii(std::string_view name) {
    Cache& c = cache();
    if (auto it = c.index.find(name); it != c.index.end()) {
        c.order.splice(c.order.begin(), c.order, it->second);
        return it->second->second;
    }
    auto result = convert(name);
    c.order.emplace_front(std::string(name), result);
    c.index.emplace(c.order.front().first, c.order.begin());
    if (c.order.size() > kCacheSize) {
        c.index.erase(c.order.back().first);
        c.order.pop_back();
    }
    return result;
}

bool valid_utf8_hostname(bool utf8, std::string_view name, bool warn) {
    if (name.empty()) {
        if (warn) util::msg_warn("valid_utf8_hostname: empty domain name");
        return false;
    }
    if (utf8 && !util::all_ascii(name)) {
        if (idna_domain_to_ascii(name)) return true;
        if (warn) util::msg_warn("valid_utf8_hostname: malformed UTF-8 domain name");
        return false;
    }
    return config::valid_hostname(name, warn);
}

}  // namespace pf::mail
