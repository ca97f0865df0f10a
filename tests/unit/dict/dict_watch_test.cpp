// Unit tests for the watch list of open file-backed tables (dict_watch.h):
// which tables are listed and under which label, and when a table counts
// as changed (new time stamp, file replaced, file removed), as the
// reference's dict_changed_name() decides.
#include "dict/dict_registry.h"
#include "dict/dict_utf8.h"
#include "dict/dict_watch.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace pf::dict {
namespace {

constexpr Flags kAccess = kLock | kFoldFixed | kUtf8Request;
constexpr time_t kOld = 1577836800;  // 2020-01-01

class DictWatch : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/dict-watch-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        before_ = watched_tables();
    }
    void TearDown() override {
        EXPECT_EQ(watched_tables(), before_) << "a destroyed table stayed listed";
        std::system(("rm -rf " + dir_).c_str());
    }

    // Builds <dir>/<name>.<suffix> as postmap does (a new file, renamed into
    // place for hash), with one entry, and gives it an old time stamp.
    std::string build(const std::string& type, const std::string& name, const std::string& value) {
        std::string path = dir_ + "/" + name;
        std::string tmp = dir_ + "/tmp-" + name;
        auto d = open(type + ":" + tmp, O_RDWR | O_CREAT | O_TRUNC, kBulkUpdate);
        EXPECT_TRUE(d) << d.error().text;
        if (!d) return path;
        EXPECT_EQ((*d)->update("key", value), ChangeStatus::done);
        EXPECT_TRUE((*d)->close());
        std::string suffix = type == "cdb" ? ".cdb" : type == "lmdb" ? ".lmdb" : ".db";
        EXPECT_EQ(::rename((tmp + suffix).c_str(), (path + suffix).c_str()), 0);
        set_mtime(path + suffix, kOld);
        return path;
    }
    static void set_mtime(const std::string& file, time_t t) {
        struct timespec times[2] = {{t, 0}, {t, 0}};
        ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
    }
    static DictPtr must_open(const std::string& name, Flags flags = kAccess, int open_flags = O_RDONLY) {
        auto d = open(name, open_flags, flags);
        EXPECT_TRUE(d) << name << ": " << (d ? "" : d.error().text);
        return d ? std::move(*d) : nullptr;
    }

    std::string dir_;
    std::size_t before_ = 0;
};

TEST(DictWatchLabel, NamesTablesAsTheReferenceRegistry) {
    EXPECT_EQ(watch_label("hash:/etc/postfix/access", O_RDONLY, kAccess),
              "hash:/etc/postfix/access(0,lock|fold_fix|utf8_request)");
    EXPECT_EQ(watch_label("hash:/x", O_RDONLY, kLock | kNoRegSub | kFoldFixed | kUtf8Request),
              "hash:/x(0,lock|no_regsub|fold_fix|utf8_request)");
    EXPECT_EQ(watch_label("cdb:/x", O_RDWR | O_CREAT, 0), "cdb:/x(102,)");
    EXPECT_EQ(flags_text(kTryNul | kTryNoNul | kSrcRhsIsFile), "try0null|try1null|src_rhs_is_file");
}

TEST_F(DictWatch, NewTimeStampIsAChange) {
    std::string a = build("hash", "a", "1");
    DictPtr t = must_open("hash:" + a);
    EXPECT_EQ(watched_tables(), before_ + 1);
    EXPECT_FALSE(changed_table());
    set_mtime(a + ".db", kOld + 1);
    EXPECT_EQ(changed_table().value_or("-"), "hash:" + a + "(0,lock|fold_fix|utf8_request)");
    // The same time stamp again: unchanged (the reference compares, no more).
    set_mtime(a + ".db", kOld);
    EXPECT_FALSE(changed_table());
}

TEST_F(DictWatch, ReplacedAndRemovedFilesAreChanges) {
    std::string a = build("hash", "a", "1");
    std::string b = build("btree", "b", "1");
    std::string c = build("cdb", "c", "1");
    DictPtr ta = must_open("hash:" + a);
    DictPtr tb = must_open("btree:" + b, kLock);
    DictPtr tc = must_open("cdb:" + c, kLock | kUtf8Request);
    EXPECT_EQ(watched_tables(), before_ + 3);
    EXPECT_FALSE(changed_table());
    // postmap's rebuild: a new file renamed over the open one, with the same
    // (old) time stamp: the open file has no link left.
    build("btree", "b", "2");
    EXPECT_EQ(changed_table().value_or("-"), "btree:" + b + "(0,lock)");
    tb.reset();
    EXPECT_FALSE(changed_table());
    ASSERT_EQ(::unlink((c + ".cdb").c_str()), 0);
    EXPECT_EQ(changed_table().value_or("-"), "cdb:" + c + "(0,lock|utf8_request)");
}

TEST_F(DictWatch, LmdbCountsOnlyARemovedFile) {
    std::string l = build("lmdb", "l", "1");
    DictPtr t = must_open("lmdb:" + l);
    EXPECT_EQ(watched_tables(), before_ + 1);
    set_mtime(l + ".lmdb", kOld + 5);  // several writers may update it in place
    EXPECT_FALSE(changed_table());
    ASSERT_EQ(::unlink((l + ".lmdb").c_str()), 0);
    EXPECT_EQ(changed_table().value_or("-"), "lmdb:" + l + "(0,lock|fold_fix|utf8_request)");
}

TEST_F(DictWatch, OnlyReadOnlyFileTablesOfOpenAreListed) {
    std::string a = build("hash", "a", "1");
    {
        std::ofstream(dir_ + "/text") << "key value\n";
    }
    DictPtr text = must_open("texthash:" + dir_ + "/text");
    DictPtr in = must_open("inline:{a=b}");
    DictPtr st = must_open("static:x");
    EXPECT_EQ(watched_tables(), before_);
    auto unwatched = open_unwatched("hash:" + a, O_RDONLY, kAccess);
    ASSERT_TRUE(unwatched);
    DictPtr rw = must_open("hash:" + a, kLock, O_RDWR);
    EXPECT_EQ(watched_tables(), before_);
    set_mtime(a + ".db", kOld + 1);
    EXPECT_FALSE(changed_table());
}

TEST_F(DictWatch, UnionPartsByTheirBareNames) {
    std::string a = build("hash", "a", "1");
    std::string b = build("hash", "b", "1");
    DictPtr u = must_open("unionmap:{hash:" + a + ", hash:" + b + "}", kLock);
    EXPECT_EQ(watched_tables(), before_ + 2);
    set_mtime(b + ".db", kOld + 1);
    EXPECT_EQ(changed_table().value_or("-"), "hash:" + b);
}

TEST_F(DictWatch, Utf8WrappedTablesAreWatched) {
    std::string a = build("hash", "a", "1");
    set_utf8_support(true);
    DictPtr t = must_open("hash:" + a);
    set_utf8_support(false);
    ASSERT_NE(t, nullptr);
    EXPECT_TRUE(t->flags() & kUtf8Active);
    EXPECT_EQ(watched_tables(), before_ + 1);
    ASSERT_EQ(::unlink((a + ".db").c_str()), 0);
    EXPECT_EQ(changed_table().value_or("-"), "hash:" + a + "(0,lock|fold_fix|utf8_request)");
}

TEST_F(DictWatch, RelistingATableRenamesIt) {
    std::string a = build("hash", "a", "1");
    DictPtr t = must_open("hash:" + a);
    watch_table("proxy:hash:" + a + "(0,lock)", *t);
    EXPECT_EQ(watched_tables(), before_ + 1);
    set_mtime(a + ".db", kOld + 1);
    EXPECT_EQ(changed_table().value_or("-"), "proxy:hash:" + a + "(0,lock)");
}

}  // namespace
}  // namespace pf::dict
