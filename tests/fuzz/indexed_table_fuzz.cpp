// Fuzzes the indexed file tables with corrupt database files: the first byte
// picks the type (hash, btree, lmdb, cdb), the rest becomes the table's file
// (x.db, x.lmdb or x.cdb in a private temporary directory), which is then
// opened read-only, queried and walked. Every outcome must be an answer or an
// error: never a crash, never unbounded memory.
#include "dict/dict_db_handles.h"
#include "dict/dict_indexed.h"
#include "dict/dict_registry.h"
#include "fuzz_support.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace {

const std::string& scratch_dir() {
    static std::string dir = [] {
        char tmpl[] = "/tmp/pf-indexed-fuzz-XXXXXX";
        const char* d = mkdtemp(tmpl);
        return std::string(d ? d : "/tmp");
    }();
    return dir;
}

struct Kind {
    const char* type;
    const char* suffix;
};
constexpr Kind kKinds[] = {{"hash", ".db"}, {"btree", ".db"}, {"lmdb", ".lmdb"}, {"cdb", ".cdb"}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    // The inputs stand for hostile files: check them whoever owns them.
    pf::dict::db::always_verify() = true;
    if (size < 1) return 0;
    const Kind& kind = kKinds[data[0] % 4];
    std::string base = scratch_dir() + "/table";
    std::string path = base + kind.suffix;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return 0;
    size_t off = 1;
    while (off < size) {
        ssize_t n = ::write(fd, data + off, size - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
    ::close(fd);
    try {
        auto dict = pf::dict::open(std::string(kind.type) + ":" + base, O_RDONLY, pf::dict::kFoldFixed);
        if (dict) {
            auto& d = **dict;
            for (const char* key : {"foo", "key2", "example.com", "a", ""}) (void)d.lookup(key);
            auto e = d.sequence(pf::dict::SequenceStart::first);
            for (int i = 0; e && i < 1000; ++i) e = d.sequence(pf::dict::SequenceStart::next);
            (void)d.close();
        }
    } catch (const pf::util::FatalError&) {
    }
    ::unlink(path.c_str());
    return 0;
}
