// environ:name — the process environment as a table (dict_env in the
// reference): the key is a variable name, folded to lower case unless the
// caller passed no fold flag (postmap -f), so "PATH" is found only with -f.
// The name after "environ:" is not used. No walks, no changes (the Dict
// defaults' "operation is not supported").
//
// Trust: the environment is the caller's; keys are arbitrary bytes (a key
// with '=' or NUL never names a variable).
#include "dict/dict_registry.h"

#include <cstdlib>

namespace pf::dict {
namespace {

class EnvironDict final : public Dict {
public:
    EnvironDict(std::string_view name, int open_flags, Flags flags)
        : Dict("environ", std::string(name), open_flags, flags | kFixed) {}

    LookupResult lookup(std::string_view key) override {
        std::string k = fold_key(key);
        if (k.find('\0') != std::string::npos) k.resize(k.find('\0'));
        if (k.find('=') != std::string::npos) return LookupResult::not_found();
        const char* v = std::getenv(k.c_str());
        if (!v) return LookupResult::not_found();
        return LookupResult::found(v);
    }
};

}  // namespace

void register_environ_type() {
    register_type("environ", [](std::string_view name, int open_flags, Flags flags) -> OpenResult {
        return std::make_unique<EnvironDict>(name, open_flags, flags);
    });
}

}  // namespace pf::dict
