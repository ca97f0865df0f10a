// Default behaviour of the Dict interface; see dict.h.
#include "dict/dict.h"

#include "dict/dict_utf8.h"
#include "dict/dict_watch.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace pf::dict {

Dict::~Dict() { unwatch_table(*this); }

ChangeStatus Dict::update(std::string_view, std::string_view) {
    set_error({Error::Kind::config, "table " + type_name() + ": update operation is not supported"});
    return ChangeStatus::failed;
}

ChangeStatus Dict::remove(std::string_view) {
    set_error({Error::Kind::config, "table " + type_name() + ": delete operation is not supported"});
    return ChangeStatus::failed;
}

std::optional<Entry> Dict::sequence(SequenceStart) {
    set_error({Error::Kind::config, "table " + type_name() + ": sequence operation is not supported"});
    return std::nullopt;
}

std::string Dict::fold_key(std::string_view key) const {
    if (flags_ & (kFoldFixed | kFoldMulti)) return (flags_ & kUtf8Active) ? casefold_utf8(key) : util::to_lower(key);
    return std::string(key);
}

void Dict::fold_key_into(std::string_view key, std::string& out) const {
    if (!(flags_ & (kFoldFixed | kFoldMulti))) {
        out.assign(key);
    } else if ((flags_ & kUtf8Active) && !util::all_ascii(key)) {
        out = casefold_utf8(key);
    } else {
        // casefold_utf8() of ASCII text is to_lower() too.
        util::to_lower_into(key, out);
    }
}

}  // namespace pf::dict
