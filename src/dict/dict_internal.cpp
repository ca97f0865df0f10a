// internal:name — a table that lives in the memory of one process (the
// reference's dict_ht): it starts empty, update/remove/sequence work on it,
// nothing is stored anywhere, so "postmap -q key internal:x" finds nothing
// and "postmap -s internal:x" lists nothing. Keys fold with kFoldFixed.
//
// Trust: keys and values are arbitrary bytes.
#include "dict/dict_registry.h"

#include <map>

namespace pf::dict {
namespace {

class InternalDict final : public Dict {
public:
    InternalDict(std::string_view name, int open_flags, Flags flags)
        : Dict("internal", std::string(name), open_flags, flags | kFixed) {}

    LookupResult lookup(std::string_view key) override {
        set_error({});
        auto it = entries_.find(fold_key(key));
        if (it == entries_.end()) return LookupResult::not_found();
        return LookupResult::found(it->second);
    }

    ChangeStatus update(std::string_view key, std::string_view value) override {
        entries_[fold_key(key)] = std::string(value);
        return ChangeStatus::done;
    }

    ChangeStatus remove(std::string_view key) override {
        return entries_.erase(fold_key(key)) ? ChangeStatus::done : ChangeStatus::not_found;
    }

    std::optional<Entry> sequence(SequenceStart where) override {
        if (where == SequenceStart::first) {
            cursor_ = entries_.begin();
        } else if (cursor_ != entries_.end()) {
            ++cursor_;
        }
        if (cursor_ == entries_.end()) return std::nullopt;
        return Entry{cursor_->first, cursor_->second};
    }

private:
    std::map<std::string, std::string> entries_;
    std::map<std::string, std::string>::iterator cursor_ = entries_.end();
};

}  // namespace

void register_internal_type() {
    register_type("internal", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        return std::make_unique<InternalDict>(name, open_flags, flags);
    });
}

}  // namespace pf::dict
