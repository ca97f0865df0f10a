// Fuzzes parameter expansion: the input is split into a value and a set of
// parameter definitions so recursion and every conditional form get exercised.
#include "config/expand.h"
#include "fuzz_support.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    std::string_view in = pf::fuzz::as_text(data, size);
    // Lines after the first define a, b, c, ... in turn.
    std::map<std::string, std::string, std::less<>> vars;
    std::string_view text = in.substr(0, in.find('\n'));
    size_t pos = text.size() + 1;
    char name = 'a';
    while (pos < in.size() && name <= 'z') {
        size_t nl = in.find('\n', pos);
        if (nl == std::string_view::npos) nl = in.size();
        vars[std::string(1, name++)] = std::string(in.substr(pos, nl - pos));
        pos = nl + 1;
    }
    pf::config::ExpandHooks hooks;
    hooks.lookup = [&](std::string_view n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
    try {
        (void)pf::config::expand(text, hooks);
        hooks.scan_only = true;
        (void)pf::config::expand(text, hooks);
    } catch (const pf::util::FatalError&) {
    }
    return 0;
}
