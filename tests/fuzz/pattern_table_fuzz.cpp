// Fuzzes the pattern-table file parsers and lookups (pcre:, regexp:, cidr:):
// the first byte picks the type and the folding flags, the rest is a table
// file, then after a line "--" the lookup keys, one per line (at most 8).
// Every outcome must be an answer, "not found" or a warning: never a crash,
// never unbounded memory or time. PCRE2 runs with the library's default
// match limit, as the reference does; glibc's regcomp() can take memory
// exponential in the pattern for nested counted repetitions
// ("((a{1,99}){1,99}){1,99}") and runs of repetition operators ("t+++++"),
// so such regexp inputs are skipped: that is the C library's behaviour,
// identical in the reference, not ours to bound.
#include "dict/dict_cidr.h"
#include "dict/dict_pattern.h"
#include "fuzz_support.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

// Patterns on which glibc's regcomp() itself needs memory exponential in
// their length: nested counted repetitions and runs of repetition
// operators ("a+++++", "a*+*?"). The reference calls the same library.
bool glibc_blowup(std::string_view table) {
    if (std::count(table.begin(), table.end(), '{') > 2) return true;
    auto rep = [](char c) { return c == '*' || c == '+' || c == '?' || c == '}'; };
    for (size_t i = 1; i < table.size(); ++i)
        if (rep(table[i]) && rep(table[i - 1])) return true;
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    if (size < 1) return 0;
    const uint8_t selector = data[0];
    std::string_view input = pf::fuzz::as_text(data + 1, size - 1);
    std::string_view table = input;
    std::string_view keys;
    if (auto sep = input.find("\n--\n"); sep != std::string_view::npos) {
        table = input.substr(0, sep + 1);
        keys = input.substr(sep + 4);
    }
    pf::dict::Flags flags = (selector & 4) ? pf::dict::kFoldMulti : 0;
    if (selector & 8) flags |= pf::dict::kNoRegSub;
    pf::dict::DictPtr dict;
    try {
        switch (selector % 3) {
        case 0:
            dict = pf::dict::pattern_table_from_text(pf::dict::make_pcre_engine(), "fuzz", table, flags);
            break;
        case 1:
            if (glibc_blowup(table)) return 0;
            dict = pf::dict::pattern_table_from_text(pf::dict::make_regexp_engine(), "fuzz", table, flags);
            break;
        default:
            dict = pf::dict::cidr_table_from_text("fuzz", table, flags);
            break;
        }
        int n = 0;
        while (!keys.empty() && n++ < 8) {
            auto nl = keys.find('\n');
            // Keys up to 24 bytes: long enough for every parser and
            // lookup path, short enough that catastrophic patterns stay far
            // below PCRE2's match limit, which costs up to a second per rule
            // under the sanitizers (the limit itself is tested elsewhere).
            std::string_view key = keys.substr(0, std::min<size_t>(nl, 24));
            keys = nl == std::string_view::npos ? std::string_view{} : keys.substr(nl + 1);
            auto r = dict->lookup(key);
            if (r.is_found()) (void)r.value().size();
        }
        (void)dict->sequence(pf::dict::SequenceStart::first);
    } catch (const pf::util::FatalError&) {
    }
    return 0;
}
