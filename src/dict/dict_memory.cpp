// In-memory table storage; see dict_memory.h.
#include "dict/dict_memory.h"

namespace pf::dict {

LookupResult MemoryDict::lookup(std::string_view key) {
    auto it = index_.find(fold_key(key));
    if (it == index_.end()) return LookupResult::not_found();
    return LookupResult::found(entries_[it->second].value);
}

std::optional<Entry> MemoryDict::sequence(SequenceStart where) {
    if (where == SequenceStart::first) cursor_ = 0;
    set_error({});
    if (cursor_ >= entries_.size()) return std::nullopt;
    return entries_[cursor_++];
}

bool MemoryDict::add(std::string key, std::string value) {
    if (index_.count(key)) return false;
    index_.emplace(key, entries_.size());
    entries_.push_back(Entry{std::move(key), std::move(value)});
    return true;
}

void MemoryDict::put(std::string key, std::string value) {
    auto it = index_.find(key);
    if (it != index_.end()) {
        entries_[it->second].value = std::move(value);
        return;
    }
    add(std::move(key), std::move(value));
}

}  // namespace pf::dict
