// Ordered lookup-table lists; see maps.h.
#include "mail/maps.h"

#include "dict/dict_registry.h"
#include "util/brace_tokens.h"
#include "util/msg.h"

#include <fcntl.h>

namespace pf::mail {

std::expected<Maps, std::string> Maps::open(std::string title, std::string_view value, dict::Flags flags) {
    Maps maps;
    maps.title_ = std::move(title);
    dict::register_builtin_types();
    std::string_view cursor = value;
    while (auto token = util::next_braced_token(cursor, ", \t\r\n")) {
        auto d = dict::open(*token, O_RDONLY, flags);
        if (!d) return std::unexpected(d.error().text);
        maps.tables_.push_back(std::move(*d));
    }
    return maps;
}

Maps Maps::from_tables(std::string title, std::vector<dict::DictPtr> tables) {
    Maps maps;
    maps.title_ = std::move(title);
    maps.tables_ = std::move(tables);
    return maps;
}

dict::LookupResult Maps::find(std::string_view key, bool fixed_only) const {
    for (const dict::DictPtr& d : tables_) {
        if (fixed_only && (d->flags() & dict::kPattern)) continue;
        dict::LookupResult r = d->lookup(key);
        if (r.is_error() && warn_errors_) util::msg_warn("{}:{} lookup error for \"{}\"", d->type(), d->name(), key);
        if (!r.is_not_found()) return r;
    }
    return dict::LookupResult::not_found();
}

}  // namespace pf::mail
