// UTF-8 support of lookup tables; see dict_utf8.h. ICU's case folding is
// looked up in libicuuc when UTF-8 support is switched on (programs do that
// right after reading main.cf, before any chroot), so that a program running
// with smtputf8_enable = no does not load ICU at start-up.
#include "dict/dict_utf8.h"

#include "util/msg.h"
#include "util/icu_library.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <unicode/ucasemap.h>

#include <memory>

namespace pf::dict {
namespace {

struct IcuCaseFolding {
    decltype(&::ucasemap_open) open;
    decltype(&::ucasemap_close) close;
    decltype(&::ucasemap_utf8FoldCase) fold;
};

const IcuCaseFolding& icu() {
    static const IcuCaseFolding f = [] {
        IcuCaseFolding r{};
        util::bind_icu_function(r.open, PF_ICU_SYMBOL(ucasemap_open));
        util::bind_icu_function(r.close, PF_ICU_SYMBOL(ucasemap_close));
        util::bind_icu_function(r.fold, PF_ICU_SYMBOL(ucasemap_utf8FoldCase));
        return r;
    }();
    return f;
}

bool g_utf8_support = false;
constexpr std::string_view kWhy = "malformed UTF-8 or invalid codepoint";

bool utf8_ok(std::string_view s) { return util::all_ascii(s) || util::valid_utf8(s); }

struct CaseMapCloser {
    void operator()(UCaseMap* m) const { icu().close(m); }
};

class Utf8Dict final : public Dict {
public:
    explicit Utf8Dict(DictPtr inner)
        : Dict(inner->type(), inner->name(), inner->open_flags(), inner->flags()), inner_(std::move(inner)) {}

    LookupResult lookup(std::string_view key) override {
        if (!key_ok(key)) return LookupResult::not_found();
        LookupResult r = inner_->lookup(key);
        sync();
        if (r.is_found() && !utf8_ok(r.value())) {
            util::msg_warn("{}: key \"{}\": non-UTF-8 value \"{}\": {}", type_name(), key, r.value(), kWhy);
            Error e{Error::Kind::config, fmt::format("{}: key \"{}\": non-UTF-8 value", type_name(), key)};
            set_error(e);
            return LookupResult::failed(std::move(e));
        }
        return r;
    }
    ChangeStatus update(std::string_view key, std::string_view value) override {
        if (!key_ok(key)) return fail_key(key);
        if (!utf8_ok(value)) {
            util::msg_warn("{}: key \"{}\": non-UTF-8 value \"{}\": {}", type_name(), key, value, kWhy);
            set_error({Error::Kind::config, fmt::format("{}: key \"{}\": non-UTF-8 value", type_name(), key)});
            return ChangeStatus::failed;
        }
        ChangeStatus s = inner_->update(key, value);
        sync();
        return s;
    }
    ChangeStatus remove(std::string_view key) override {
        if (!key_ok(key)) return fail_key(key);
        ChangeStatus s = inner_->remove(key);
        sync();
        return s;
    }
    std::optional<Entry> sequence(SequenceStart where) override {
        auto e = inner_->sequence(where);
        sync();
        return e;
    }
    std::expected<void, Error> close() override { return inner_->close(); }
    int stat_fd() const override { return inner_->stat_fd(); }

private:
    bool key_ok(std::string_view key) {
        if (utf8_ok(key)) return true;
        util::msg_warn("{}: non-UTF-8 key \"{}\": {}", type_name(), key, kWhy);
        return false;
    }
    ChangeStatus fail_key(std::string_view key) {
        set_error({Error::Kind::config, fmt::format("{}: non-UTF-8 key \"{}\"", type_name(), key)});
        return ChangeStatus::failed;
    }
    void sync() {
        set_error(inner_->last_error());
        set_flags(inner_->flags());
    }

    DictPtr inner_;
};

// The process's case map (null when ICU could not make one).
UCaseMap* case_map() {
    static std::unique_ptr<UCaseMap, CaseMapCloser> map = [] {
        UErrorCode err = U_ZERO_ERROR;
        return std::unique_ptr<UCaseMap, CaseMapCloser>(icu().open(nullptr, U_FOLD_CASE_DEFAULT, &err));
    }();
    return map.get();
}

}  // namespace

void set_utf8_support(bool on) {
    g_utf8_support = on;
    // Loaded now, while the program can still see the library (a daemon
    // chroots later) and a missing one is a start-up error.
    if (on) case_map();
}
bool utf8_support() { return g_utf8_support; }

std::string casefold_utf8(std::string_view text) {
    if (util::all_ascii(text)) return util::to_lower(text);
    UCaseMap* map = case_map();
    if (!map) return util::to_lower(text);
    std::string out(text.size() * 3 + 16, '\0');
    for (int attempt = 0; attempt < 2; ++attempt) {
        UErrorCode err = U_ZERO_ERROR;
        int32_t n = icu().fold(map, out.data(), static_cast<int32_t>(out.size()), text.data(),
                               static_cast<int32_t>(text.size()), &err);
        if (err == U_BUFFER_OVERFLOW_ERROR) {
            out.assign(static_cast<size_t>(n) + 1, '\0');
            continue;
        }
        if (U_FAILURE(err)) return util::to_lower(text);
        out.resize(static_cast<size_t>(n));
        return out;
    }
    return util::to_lower(text);
}

DictPtr wrap_utf8(DictPtr dict) { return std::make_unique<Utf8Dict>(std::move(dict)); }

}  // namespace pf::dict
