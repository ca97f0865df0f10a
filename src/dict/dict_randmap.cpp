// randmap:{value1, value2, ...} — every lookup finds one of the values, picked
// at random (dict_random in the reference), e.g. to spread mail over relays.
// Values split on white space and commas ("{...}" elements keep theirs and
// their braces). 'bad syntax: "randmap:<name>"; need "randmap:{value...}"'
// for anything but a non-empty braced list; read-only. With -F
// (kSrcRhsIsFile) each value names a file, stored as base64.
//
// Trust: the name comes from main.cf or the command line.
#include "dict/dict_braced.h"
#include "dict/dict_registry.h"
#include "dict/table_source.h"

#include <fcntl.h>
#include <fmt/core.h>

#include <random>
#include <vector>

namespace pf::dict {
namespace {

class RandmapDict final : public Dict {
public:
    RandmapDict(std::string_view name, int open_flags, Flags flags, std::vector<std::string> values)
        : Dict("randmap", std::string(name), open_flags, flags), values_(std::move(values)), rng_(std::random_device{}()) {}

    LookupResult lookup(std::string_view) override {
        std::uniform_int_distribution<size_t> pick(0, values_.size() - 1);
        return LookupResult::found(values_[pick(rng_)]);
    }

private:
    std::vector<std::string> values_;
    std::mt19937 rng_;
};

}  // namespace

void register_randmap_type() {
    register_type("randmap", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        if ((open_flags & O_ACCMODE) != O_RDONLY)
            return std::unexpected(Error{Error::Kind::config, fmt::format("randmap:{} map requires O_RDONLY access mode", name)});
        auto bad = [&] {
            return std::unexpected(
                Error{Error::Kind::config, fmt::format("bad syntax: \"randmap:{}\"; need \"randmap:{{value...}}\"", name)});
        };
        auto body = braced_body(name);
        if (!body) return bad();
        std::vector<std::string> values;
        for (auto element : braced_elements(*body)) {
            std::string value(element);
            if (flags & kSrcRhsIsFile) {
                std::string err;
                auto encoded = files_to_base64(value, err);
                if (!encoded) return std::unexpected(Error{Error::Kind::config, err});
                value = std::move(*encoded);
            }
            values.push_back(std::move(value));
        }
        if (values.empty()) return bad();
        return std::make_unique<RandmapDict>(name, open_flags, flags, std::move(values));
    });
}

}  // namespace pf::dict
