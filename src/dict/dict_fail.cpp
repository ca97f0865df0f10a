// fail:name — every lookup and update fails with a temporary error
// (fail_table in the reference); useful to test error handling.
#include "dict/dict_registry.h"

namespace pf::dict {
namespace {

class FailDict final : public Dict {
public:
    FailDict(std::string_view name, int open_flags, Flags flags) : Dict("fail", std::string(name), open_flags, flags) {}

    LookupResult lookup(std::string_view) override { return LookupResult::failed(failure()); }
    ChangeStatus update(std::string_view, std::string_view) override {
        set_error(failure());
        return ChangeStatus::failed;
    }
    ChangeStatus remove(std::string_view) override {
        set_error(failure());
        return ChangeStatus::failed;
    }
    std::optional<Entry> sequence(SequenceStart) override {
        set_error(failure());
        return std::nullopt;
    }

private:
    static Error failure() { return {Error::Kind::retry, "Application error"}; }
};

}  // namespace

void register_fail_type() {
    register_type("fail", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        return std::make_unique<FailDict>(name, open_flags, flags);
    });
}

}  // namespace pf::dict
