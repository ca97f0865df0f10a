// Tables that fail to open become stand-ins that fail every lookup; see
// address_surrogate.h.
#include "mail/address_surrogate.h"

#include "dict/dict_registry.h"
#include "dict/dict_utf8.h"
#include "util/msg.h"

namespace pf::mail {

namespace {

class SurrogateDict final : public dict::Dict {
public:
    SurrogateDict(std::string type, std::string name, int open_flags, dict::Flags flags, std::string reason)
        : Dict(std::move(type), std::move(name), open_flags, (flags | dict::kPattern) & ~dict::kFixed),
          reason_(std::move(reason)) {}

    dict::LookupResult lookup(std::string_view) override {
        util::msg_warn("{}:{} is unavailable. {}", type(), name(), reason_);
        dict::Error e{dict::Error::Kind::retry, reason_};
        set_error(e);
        return dict::LookupResult::failed(std::move(e));
    }

private:
    std::string reason_;
};

}  // namespace

std::expected<dict::DictPtr, std::string> open_table_or_surrogate(std::string_view type_name, int open_flags,
                                                                  dict::Flags flags) {
    dict::register_builtin_types();
    auto opened = dict::open(type_name, open_flags, flags);
    if (opened) return std::move(*opened);
    auto colon = type_name.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == type_name.size())
        return std::unexpected(opened.error().text);
    util::msg_error("{}", opened.error().text);
    // Like any table, the stand-in gets the UTF-8 key checks first: a
    // malformed key is "not found" before the stand-in is asked.
    if (dict::utf8_support() && (flags & dict::kUtf8Request)) flags |= dict::kUtf8Active;
    dict::DictPtr surrogate = std::make_unique<SurrogateDict>(std::string(type_name.substr(0, colon)),
                                                              std::string(type_name.substr(colon + 1)), open_flags,
                                                              flags, opened.error().text);
    if (flags & dict::kUtf8Active) return dict::wrap_utf8(std::move(surrogate));
    return surrogate;
}

}  // namespace pf::mail
