// static:value — every lookup finds the same value (static_table in the
// reference); "static:{text with spaces}" takes the text between the braces.
#include "dict/dict_registry.h"

namespace pf::dict {
namespace {

class StaticDict final : public Dict {
public:
    StaticDict(std::string_view name, int open_flags, Flags flags, std::string value)
        : Dict("static", std::string(name), open_flags, flags | kFixed), value_(std::move(value)) {}

    LookupResult lookup(std::string_view) override { return LookupResult::found(value_); }

    std::optional<Entry> sequence(SequenceStart) override {
        set_error({Error::Kind::config, "table " + type_name() + ": sequence operation is not supported"});
        return std::nullopt;
    }

private:
    std::string value_;
};

}  // namespace

void register_static_type() {
    register_type("static", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        std::string value(name);
        if (name.size() >= 2 && name.front() == '{' && name.back() == '}') value = std::string(name.substr(1, name.size() - 2));
        return std::make_unique<StaticDict>(name, open_flags, flags, std::move(value));
    });
}

}  // namespace pf::dict
