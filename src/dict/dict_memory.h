// An in-memory table in insertion order: the storage behind inline: and
// texthash:, which the reference also keeps in memory once loaded. Lookups
// fold keys as the table's flags say; sequence() walks in insertion order.
#pragma once

#include "dict/dict.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pf::dict {

class MemoryDict : public Dict {
public:
    using Dict::Dict;

    LookupResult lookup(std::string_view key) override;
    std::optional<Entry> sequence(SequenceStart where) override;

protected:
    // Adds an entry whose key is already folded; false when the key exists
    // (nothing is changed then).
    bool add(std::string key, std::string value);
    // Replaces the value of an existing key, or adds it.
    void put(std::string key, std::string value);

private:
    std::vector<Entry> entries_;
    std::unordered_map<std::string, size_t> index_;
    size_t cursor_ = 0;
};

}  // namespace pf::dict
