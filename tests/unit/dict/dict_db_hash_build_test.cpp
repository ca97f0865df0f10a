// Unit tests for the in-memory hash build (dict_db_hash_build.h): the file it
// writes must be the one libdb's own put() calls make from the same pairs in
// the same order — same meta fields, page headers, index slots and items on
// every page (the bytes of free space aside, which libdb leaves stale) — and
// libdb must read it back and verify it. Also the table type end to end: a
// bulk build through the registry lists its entries in libdb's order.
#include "dict/dict_db_hash_build.h"
#include "dict/dict_registry.h"

#include <db.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace pf::dict::db {
namespace {

struct Pair {
    std::string key;
    std::string value;
};

class TempDir {
public:
    TempDir() {
        std::string t = (std::filesystem::temp_directory_path() / "pf-hashbuild-XXXXXX").string();
        path_ = ::mkdtemp(t.data());
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// libdb as dict_db.cpp drives it: private environment, 4096 expected
// elements, DB_NOOVERWRITE puts. pairs == nullptr: just the empty file.
void libdb_build(const std::string& dir, const std::string& file, const std::vector<Pair>* pairs, long cache,
                 u_int32_t page_size) {
    DB_ENV* env = nullptr;
    ASSERT_EQ(db_env_create(&env, 0), 0);
    ASSERT_EQ(env->set_cachesize(env, 0, static_cast<u_int32_t>(cache), 1), 0);
    ASSERT_EQ(env->open(env, dir.c_str(), DB_CREATE | DB_INIT_MPOOL | DB_PRIVATE, 0), 0);
    DB* db = nullptr;
    ASSERT_EQ(db_create(&db, env, 0), 0);
    ASSERT_EQ(db->set_h_nelem(db, 4096), 0);
    ASSERT_EQ(db->set_pagesize(db, page_size), 0);
    ASSERT_EQ(db->open(db, nullptr, file.c_str(), nullptr, DB_HASH, DB_CREATE | DB_TRUNCATE, 0644), 0);
    if (pairs) {
        for (const Pair& p : *pairs) {
            DBT k{};
            DBT v{};
            k.data = const_cast<char*>(p.key.data());
            k.size = static_cast<u_int32_t>(p.key.size());
            v.data = const_cast<char*>(p.value.data());
            v.size = static_cast<u_int32_t>(p.value.size());
            int err = db->put(db, nullptr, &k, &v, DB_NOOVERWRITE);
            ASSERT_TRUE(err == 0 || err == DB_KEYEXIST) << err;
        }
    }
    ASSERT_EQ(db->close(db, 0), 0);
    ASSERT_EQ(env->close(env, 0), 0);
}

std::string read_all(const std::string& path) {
    std::string s;
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return s;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return s;
}

uint16_t u16(const std::string& s, size_t off) {
    uint16_t v;
    std::memcpy(&v, s.data() + off, 2);
    return v;
}

// Compares two hash files page by page, free-space bytes and the file id
// aside; returns the first difference.
std::string compare_files(const std::string& a, const std::string& b, size_t P) {
    if (a.size() != b.size()) return "sizes " + std::to_string(a.size()) + " " + std::to_string(b.size());
    for (size_t p = 0; p < a.size() / P; ++p) {
        std::string x = a.substr(p * P, P);
        std::string y = b.substr(p * P, P);
        if (p == 0) {
            std::memset(x.data() + 52, 0, 20);  // file id
            std::memset(y.data() + 52, 0, 20);
            if (x.compare(0, 512, y, 0, 512) != 0) return "meta page";
            continue;
        }
        if (x.compare(0, 26, y, 0, 26) != 0) return "header of page " + std::to_string(p);
        if (x[25] == 13) {
            size_t n = u16(x, 20);
            size_t hoff = u16(x, 22);
            if (x.compare(26, 2 * n, y, 26, 2 * n) != 0 || x.compare(hoff, P - hoff, y, hoff, P - hoff) != 0)
                return "items of page " + std::to_string(p);
        }
    }
    return "";
}

// Builds pairs both ways and compares.
void check_same(const std::vector<Pair>& pairs, long cache = 1 << 20, u_int32_t page_size = 4096) {
    TempDir dir;
    libdb_build(dir.path(), "ref.db", &pairs, cache, page_size);
    libdb_build(dir.path(), "ours.db", nullptr, cache, page_size);
    std::string ours_path = dir.path() + "/ours.db";
    std::string meta = read_all(ours_path).substr(0, page_size);
    HashBuild build(page_size);
    ASSERT_TRUE(build.meta_is_fresh(meta));
    size_t dups = 0;
    for (const Pair& p : pairs) {
        ASSERT_TRUE(build.fits(p.key.size(), p.value.size()));
        if (build.contains(p.key)) {
            ++dups;
            continue;
        }
        build.add(p.key, p.value);
    }
    EXPECT_EQ(build.size() + dups, pairs.size());
    int fd = ::open(ours_path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(build.write(fd, meta), 0);
    ::close(fd);
    EXPECT_EQ(compare_files(read_all(ours_path), read_all(dir.path() + "/ref.db"), page_size), "")
        << pairs.size() << " pairs, page size " << page_size;
    DB* v = nullptr;
    ASSERT_EQ(db_create(&v, nullptr, 0), 0);
    v->set_errcall(v, [](const DB_ENV*, const char*, const char*) {});
    EXPECT_EQ(v->verify(v, ours_path.c_str(), nullptr, nullptr, 0), 0);
}

std::vector<Pair> random_pairs(unsigned seed, size_t n, size_t max_key, size_t max_value, size_t key_space) {
    std::mt19937 rng(seed);
    std::vector<Pair> pairs;
    for (size_t i = 0; i < n; ++i) {
        Pair p;
        size_t id = key_space ? rng() % key_space : i;
        p.key = "k" + std::to_string(id);
        size_t klen = 1 + rng() % max_key;
        while (p.key.size() < klen) p.key += static_cast<char>('a' + rng() % 26);
        p.key.push_back('\0');
        size_t vlen = 1 + rng() % max_value;
        for (size_t j = 0; j < vlen; ++j) p.value += static_cast<char>(' ' + rng() % 90);
        p.value.push_back('\0');
        pairs.push_back(std::move(p));
    }
    return pairs;
}

TEST(DictDbHashBuild, EmptyAndTiny) {
    check_same({});
    check_same({{std::string("a\0", 2), std::string("b\0", 2)}});
    check_same(random_pairs(1, 5, 10, 10, 0));
}

TEST(DictDbHashBuild, ShortPairsGrowTheTable) {
    check_same(random_pairs(2, 20000, 30, 20, 0));
}

TEST(DictDbHashBuild, DuplicatesKeepTheFirst) {
    check_same(random_pairs(3, 20000, 12, 30, 8000));
}

TEST(DictDbHashBuild, PairsUpToAQuarterPage) {
    check_same(random_pairs(4, 3000, 1023, 1023, 0));
    check_same(random_pairs(5, 6000, 200, 1023, 2000));
}

TEST(DictDbHashBuild, CacheSizeDoesNotMatter) {
    check_same(random_pairs(6, 30000, 20, 20, 0), 64 * 1024);
}

TEST(DictDbHashBuild, OtherPageSizes) {
    check_same(random_pairs(8, 5000, 40, 60, 4000), 1 << 20, 512);
    check_same(random_pairs(9, 20000, 100, 1000, 15000), 1 << 20, 16384);
    check_same(random_pairs(10, 20000, 100, 3000, 0), 1 << 20, 32768);
}

TEST(DictDbHashBuild, WhatItDoesNotHandle) {
    HashBuild build(4096);
    EXPECT_TRUE(build.fits(1024, 1024));
    EXPECT_FALSE(build.fits(1025, 1));
    EXPECT_FALSE(build.fits(1, 1025));
    std::string meta(4096, '\0');
    EXPECT_FALSE(build.meta_is_fresh(meta));
}

// Through the table type: bulk builds (with the fallback for a big value in
// the middle) list the same entries in the same order as incremental ones.
TEST(DictDbHashBuild, TableTypeMatchesIncrementalBuild) {
    TempDir dir;
    auto pairs = random_pairs(7, 5000, 20, 20, 3000);
    pairs[2500].value = std::string(2000, 'x') + '\0';
    auto build = [&](const std::string& name, int open_flags, Flags flags) {
        auto d = open("hash:" + dir.path() + "/" + name, open_flags, flags);
        ASSERT_TRUE(d) << d.error().text;
        for (const Pair& p : pairs) {
            std::string k = p.key.substr(0, p.key.size() - 1);
            std::string v = p.value.substr(0, p.value.size() - 1);
            EXPECT_NE((*d)->update(k, v), ChangeStatus::failed);
        }
        ASSERT_TRUE((*d)->close());
    };
    build("bulk", O_RDWR | O_CREAT | O_TRUNC, kDupIgnore | kBulkUpdate);
    build("incr", O_RDWR | O_CREAT | O_TRUNC, kDupIgnore);
    auto list = [&](const std::string& name) {
        std::string out;
        auto d = open("hash:" + dir.path() + "/" + name, O_RDONLY, kDupIgnore);
        EXPECT_TRUE(d);
        if (!d) return out;
        for (auto e = (*d)->sequence(SequenceStart::first); e; e = (*d)->sequence(SequenceStart::next))
            out += e->key + "\t" + e->value + "\n";
        return out;
    };
    std::string bulk = list("bulk");
    EXPECT_FALSE(bulk.empty());
    EXPECT_EQ(bulk, list("incr"));
}

}  // namespace
}  // namespace pf::dict::db
