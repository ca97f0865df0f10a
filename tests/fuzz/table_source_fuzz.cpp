// Fuzzes the postmap/texthash source-file reader (dict/table_source.h) with
// arbitrary bytes, with and without UTF-8 checks, and the braced table names
// of inline:, randmap:, unionmap: and pipemap: (the first input byte picks
// what the rest is fed to).
#include "dict/dict_registry.h"
#include "dict/table_source.h"
#include "fuzz_support.h"

#include <fcntl.h>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    if (size == 0) return 0;
    const uint8_t mode = data[0];
    std::string_view text = pf::fuzz::as_text(data + 1, size - 1);
    try {
        if (mode < 128) {
            pf::dict::SourceOptions o;
            o.utf8_check = mode & 1;
            o.texthash = mode & 2;
            pf::dict::TableSource source(std::string(text), "fuzz", o);
            size_t n = 0;
            while (auto e = source.next()) n += e->key.size() + e->value.size();
            source.rewind();
            (void)source.next();
            (void)n;
        } else {
            // Names of files (e.g. texthash:/dev/zero inside a unionmap) stay out.
            if (text.find('/') != std::string_view::npos) return 0;
            static const char* kTypes[] = {"inline:", "randmap:", "unionmap:", "pipemap:", "static:"};
            std::string name = std::string(kTypes[mode % 5]) + std::string(text);
            auto d = pf::dict::open(name, O_RDONLY, pf::dict::kFoldFixed | pf::dict::kDupWarn);
            if (d) {
                (void)(*d)->lookup("a");
                (void)(*d)->lookup(text);
            }
        }
    } catch (const pf::util::FatalError&) {
    }
    return 0;
}
