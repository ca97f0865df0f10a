// Table-type registry and "type:name" opening; see dict_registry.h.
#include "dict/dict_registry.h"

#include "dict/dict_utf8.h"
#include "dict/dict_watch.h"
#include "util/msg.h"

#include <fcntl.h>

#include <algorithm>
#include <map>

namespace pf::dict {
namespace {

std::map<std::string, Opener, std::less<>>& registry() {
    static std::map<std::string, Opener, std::less<>> types;
    return types;
}

}  // namespace

void register_type(std::string_view type, Opener opener) { registry()[std::string(type)] = std::move(opener); }

bool is_registered(std::string_view type) { return registry().count(type) > 0; }

std::vector<std::string> registered_types() {
    std::vector<std::string> names;
    for (const auto& [name, _] : registry()) names.push_back(name);
    return names;
}

OpenResult open(std::string_view type_name, int open_flags, Flags flags) {
    OpenResult r = open_unwatched(type_name, open_flags, flags);
    if (r && (open_flags & O_ACCMODE) == O_RDONLY && !(open_flags & O_CREAT))
        watch_table(watch_label(type_name, open_flags, flags), **r);
    return r;
}

OpenResult open_unwatched(std::string_view type_name, int open_flags, Flags flags) {
    register_builtin_types();
    auto colon = type_name.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == type_name.size())
        return std::unexpected(Error{Error::Kind::config, "open dictionary: expecting \"type:name\" form instead of \"" +
                                                              std::string(type_name) + "\""});
    std::string_view type = type_name.substr(0, colon);
    auto it = registry().find(type);
    if (it == registry().end())
        return std::unexpected(Error{Error::Kind::config, "unsupported dictionary type: " + std::string(type)});
    if (utf8_support() && (flags & kUtf8Request)) flags |= kUtf8Active;
    OpenResult r = it->second(type_name.substr(colon + 1), open_flags, flags);
    if (!r) return r;
    // -v: the reference logs every table it has opened, except the ones a
    // build creates (those log "open <type> <name>", the builder's business).
    if (util::msg_verbose && !(open_flags & O_CREAT)) util::msg_info("dict_open: {}", type_name);
    if (flags & kUtf8Active) return wrap_utf8(std::move(*r));
    return r;
}

bool supports_bulk_create(std::string_view type) {
    return type == "hash" || type == "btree" || type == "lmdb" || type == "cdb" || type == "fail";
}

}  // namespace pf::dict
