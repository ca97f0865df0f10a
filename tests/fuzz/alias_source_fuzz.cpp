// Fuzzes the aliases(5) source reader (postalias): logical lines, RFC 822
// tokens, the name:value checks and the internal/external forms. The first
// byte chooses whether the UTF-8 check is on; the rest is the file.
// Checked beyond "no crash": names and values never hold a NUL byte (the
// reader works on C strings, as the reference). Values may be empty (a
// lone backslash at the end of a line is an empty word, as in the
// reference).
#include "dict/alias_source.h"
#include "fuzz_support.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    if (size == 0) return 0;
    const bool utf8 = data[0] & 1;
    std::string content(pf::fuzz::as_text(data + 1, size - 1));
    try {
        pf::dict::AliasSource source(content, "aliases", utf8);
        while (auto entry = source.next()) {
            if (entry->key.find('\0') != std::string::npos) std::abort();
            if (entry->value.find('\0') != std::string::npos) std::abort();
        }
        pf::dict::KeyValue kv;
        (void)pf::dict::split_alias_line(content.c_str(), kv);
    } catch (const pf::util::FatalError&) {
    }
    return 0;
}
