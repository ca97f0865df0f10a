// proxymap(8) without a running system: which tables proxy_read_maps /
// proxy_write_maps approve, how tables are opened once and shared, the
// requests and their replies, the warnings the reference logs (observed
// from its proxymap 3.7.11), and the restart check on rebuilt table files.
#include "proxymap/proxymap_acl.h"
#include "proxymap/proxymap_service.h"
#include "proxymap/proxymap_tables.h"

#include "dict/dict_registry.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace pf::proxymap {
namespace {

using Names = std::set<std::string>;

// Warnings and errors logged while an object lives.
class Captured {
public:
    Captured() {
        util::msg_set_stderr(false);
        util::msg_set_sink([this](util::MsgLevel level, std::string_view text) {
            const char* tag = level == util::MsgLevel::warning ? "warning: "
                              : level == util::MsgLevel::error ? "error: "
                              : level == util::MsgLevel::info  ? "info: "
                                                               : "other: ";
            lines.push_back(tag + std::string(text));
        });
    }
    ~Captured() {
        util::msg_set_sink({});
        util::msg_set_stderr(true);
    }
    std::vector<std::string> lines;
};

TEST(ProxymapAcl, KeepsOnlyProxyTables) {
    auto a = ApprovedTables::from_list(
        "proxy:hash:/etc/a, hash:/etc/b proxy:proxy:cdb:/x\n\tproxy:unix:passwd.byname example.com proxy:bare "
        "permit_mynetworks",
        "proxy_read_maps");
    EXPECT_EQ(a.names(), (Names{"hash:/etc/a", "cdb:/x", "unix:passwd.byname"}));
    EXPECT_TRUE(a.allows("hash:/etc/a"));
    EXPECT_FALSE(a.allows("hash:/etc/b"));
    EXPECT_FALSE(a.allows("proxy:hash:/etc/a"));
}

TEST(ProxymapAcl, LooksInsideBracesAndNestedLists) {
    auto a = ApprovedTables::from_list(
        "{proxy:mysql:/etc/m.cf, domain=x} unionmap:{proxy:hash:/u1, pipemap:{proxy:regexp:/p1, hash:/p2}} "
        "pipemap:proxy:hash:/notnested inline:{proxy:hash:/inline=1}",
        "proxy_read_maps");
    EXPECT_EQ(a.names(), (Names{"mysql:/etc/m.cf", "hash:/u1", "regexp:/p1"}));
}

TEST(ProxymapAcl, WarnsAboutBrokenBraces) {
    Captured log;
    auto a = ApprovedTables::from_list("{proxy:hash:/a}x proxy:hash:/ok unionmap:{proxy:hash:/b", "proxy_write_maps");
    EXPECT_EQ(a.names(), (Names{"hash:/ok"}));
    EXPECT_EQ(log.lines, (std::vector<std::string>{
                             "warning: bad proxy_write_maps parameter value: syntax error after '}' in \"{proxy:hash:/a}x\"",
                             "warning: bad proxy_write_maps parameter value: missing '}' in \"{proxy:hash:/b\""}));
}

TEST(ProxymapAcl, StripsProxyPrefixes) {
    EXPECT_EQ(strip_proxy_prefixes("proxy:proxy:hash:/x"), "hash:/x");
    EXPECT_EQ(strip_proxy_prefixes("hash:/x"), "hash:/x");
    EXPECT_EQ(strip_proxy_prefixes("proxy:"), "");
}

TEST(ProxymapFlags, ReferenceNames) {
    EXPECT_EQ(flags_text(0), "");
    EXPECT_EQ(flags_text(dict::kTryNul | dict::kTryNoNul), "try0null|try1null");
    EXPECT_EQ(flags_text(dict::kFoldFixed | dict::kLock | dict::kUtf8Request), "lock|fold_fix|utf8_request");
    EXPECT_EQ(flags_text(dict::kSrcRhsIsFile), "src_rhs_is_file");
}

// A writable table in memory, folding keys as its flags say.
class TestDict final : public dict::Dict {
public:
    using Dict::Dict;
    dict::LookupResult lookup(std::string_view key) override {
        auto it = map_.find(fold_key(key));
        return it == map_.end() ? dict::LookupResult::not_found() : dict::LookupResult::found(it->second);
    }
    dict::ChangeStatus update(std::string_view key, std::string_view value) override {
        map_[fold_key(key)] = value;
        return dict::ChangeStatus::done;
    }
    dict::ChangeStatus remove(std::string_view key) override {
        return map_.erase(fold_key(key)) ? dict::ChangeStatus::done : dict::ChangeStatus::not_found;
    }
    std::optional<dict::Entry> sequence(dict::SequenceStart where) override {
        if (where == dict::SequenceStart::first) cursor_ = map_.begin();
        if (cursor_ == map_.end()) return std::nullopt;
        dict::Entry e{cursor_->first, cursor_->second};
        ++cursor_;
        return e;
    }

private:
    std::map<std::string, std::string> map_;
    std::map<std::string, std::string>::iterator cursor_ = map_.end();
};

// An opener that hands out memory tables and counts the opens.
struct CountingOpener {
    std::vector<std::pair<std::string, dict::Flags>> opens;
    std::vector<std::string> fail;  // names whose open fails

    TableOpener get() {
        return [this](std::string_view name, int, dict::Flags flags) -> dict::OpenResult {
            opens.emplace_back(std::string(name), flags);
            for (const auto& f : fail)
                if (f == name)
                    return std::unexpected(dict::Error{dict::Error::Kind::retry,
                                                       "open database " + f.substr(f.find(':') + 1) + ".db: No such file or directory"});
            auto colon = name.find(':');
            auto d = std::make_unique<TestDict>(std::string(name.substr(0, colon)), std::string(name.substr(colon + 1)),
                                                0, flags | dict::kFixed);
            d->update("foo", "bar");
            d->update("Mixed", "case");
            return d;
        };
    }
};

ipc::AttrList req(std::initializer_list<std::pair<std::string, std::string>> items) { return ipc::AttrList(items); }

std::string status_of(const ipc::AttrList& reply) { return reply.get_or("status", "?"); }

TEST(ProxymapTables, OpensOnceAndShares) {
    CountingOpener opener;
    TableCache cache(ApprovedTables::from_list("proxy:hash:/t", "proxy_read_maps"), false, opener.get());
    auto a = cache.find("hash:/t", dict::kFoldFixed | dict::kLock, true);
    auto b = cache.find("proxy:hash:/t", dict::kFoldFixed, false);
    ASSERT_NE(a.table, nullptr);
    EXPECT_EQ(a.table, b.table);
    ASSERT_EQ(opener.opens.size(), 1u);
    // "open" passes only the instance flags, as the reference's client.
    EXPECT_EQ(opener.opens[0].second, 0u);
    // Other instance flags make another instance.
    auto c = cache.find("hash:/t", dict::kSrcRhsIsFile, false);
    EXPECT_NE(c.table, a.table);
    EXPECT_EQ(cache.open_count(), 2u);
}

TEST(ProxymapTables, RefusesUnapprovedAndMalformedNames) {
    Captured log;
    CountingOpener opener;
    TableCache reader(ApprovedTables::from_list("proxy:hash:/t", "proxy_read_maps"), false, opener.get());
    auto r = reader.find("hash:/other", 0, true);
    EXPECT_EQ(r.table, nullptr);
    EXPECT_EQ(r.status, dict::ProxyStatus::deny);
    EXPECT_EQ(reader.find("hash", 0, true).status, dict::ProxyStatus::bad);
    TableCache writer(ApprovedTables::from_list("proxy:btree:/w", "proxy_write_maps"), true, opener.get());
    EXPECT_EQ(writer.find("proxy:hash:/t", 0, true).status, dict::ProxyStatus::deny);
    EXPECT_TRUE(opener.opens.empty());
    EXPECT_EQ(log.lines,
              (std::vector<std::string>{
                  "warning: request for unapproved table: \"hash:/other\"",
                  "warning: to approve this table for read-only access, list proxy:hash:/other in main.cf:proxy_read_maps",
                  "warning: request for unapproved table: \"hash:/t\"",
                  "warning: to approve this table for read-write access, list proxy:hash:/t in main.cf:proxy_write_maps"}));
}

TEST(ProxymapTables, UnavailableTableFailsEveryLookup) {
    Captured log;
    CountingOpener opener;
    opener.fail = {"hash:/missing"};
    TableCache cache(ApprovedTables::from_list("proxy:hash:/missing", "proxy_read_maps"), false, opener.get());
    ProxyService service(cache);
    auto open = service.handle(req({{"request", "open"}, {"table", "hash:/missing"}, {"flags", "0"}}));
    ASSERT_TRUE(open);
    EXPECT_EQ(status_of(*open), "0");
    for (int i = 0; i < 2; ++i) {
        auto r = service.handle(req({{"request", "lookup"}, {"table", "hash:/missing"}, {"flags", "0"}, {"key", "k"}}));
        ASSERT_TRUE(r);
        EXPECT_EQ(status_of(*r), "2");
    }
    EXPECT_EQ(opener.opens.size(), 1u);
    EXPECT_EQ(log.lines,
              (std::vector<std::string>{
                  "error: open database /missing.db: No such file or directory",
                  "warning: hash:/missing is unavailable. open database /missing.db: No such file or directory",
                  "warning: hash:/missing is unavailable. open database /missing.db: No such file or directory"}));
}

TEST(ProxymapService, LookupFoundNotFoundAndFolding) {
    CountingOpener opener;
    TableCache cache(ApprovedTables::from_list("proxy:hash:/t", "proxy_read_maps"), false, opener.get());
    ProxyService service(cache);
    auto fold = std::to_string(dict::kFoldFixed);
    auto hit = service.handle(req({{"request", "lookup"}, {"table", "hash:/t"}, {"flags", fold}, {"key", "FOO"}}));
    ASSERT_TRUE(hit);
    EXPECT_EQ(status_of(*hit), "0");
    EXPECT_EQ(hit->get_or("value", "?"), "bar");
    auto miss = service.handle(req({{"request", "lookup"}, {"table", "hash:/t"}, {"flags", "0"}, {"key", "FOO"}}));
    ASSERT_TRUE(miss);
    EXPECT_EQ(status_of(*miss), "1");
    EXPECT_EQ(miss->get_or("value", "?"), "");
}

TEST(ProxymapService, OpenReturnsTableFlags) {
    Captured log;
    CountingOpener opener;
    TableCache cache(ApprovedTables::from_list("proxy:hash:/t", "proxy_read_maps"), false, opener.get());
    ProxyService service(cache);
    auto r = service.handle(req({{"request", "open"}, {"table", "proxy:hash:/t"}, {"flags", "0"}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(status_of(*r), "0");
    auto flags = r->get_number("flags");
    ASSERT_TRUE(flags);
    EXPECT_TRUE(*flags & dict::kFixed);
    auto denied = service.handle(req({{"request", "open"}, {"table", "hash:/nope"}, {"flags", "0"}}));
    EXPECT_EQ(status_of(*denied), "4");
    EXPECT_EQ(denied->get_or("flags", "?"), "0");
}

TEST(ProxymapService, StrictRequests) {
    Captured log;
    CountingOpener opener;
    TableCache cache(ApprovedTables::from_list("proxy:hash:/t", "proxy_read_maps"), false, opener.get());
    ProxyService service(cache);
    EXPECT_FALSE(service.handle(req({{"table", "hash:/t"}})));
    EXPECT_EQ(status_of(*service.handle(req({{"request", "lookup"}, {"table", "hash:/t"}, {"flags", "0"}}))), "3");
    EXPECT_EQ(status_of(*service.handle(
                  req({{"request", "lookup"}, {"table", "hash:/t"}, {"flags", "x"}, {"key", "foo"}}))),
              "3");
    EXPECT_EQ(status_of(*service.handle(req(
                  {{"request", "lookup"}, {"table", "hash:/t"}, {"flags", "0"}, {"key", "foo"}, {"extra", "1"}}))),
              "3");
    EXPECT_EQ(status_of(*service.handle(
                  req({{"request", "sequence"}, {"table", "hash:/t"}, {"flags", "0"}, {"function", "last"}}))),
              "3");
    EXPECT_EQ(status_of(*service.handle(req({{"request", "close"}, {"table", "hash:/t"}}))), "3");
    EXPECT_EQ(log.lines, (std::vector<std::string>{"warning: unrecognized request: \"close\", ignored"}));
}

TEST(ProxymapService, ReadOnlyServiceRefusesChanges) {
    Captured log;
    CountingOpener opener;
    TableCache cache(ApprovedTables::from_list("proxy:hash:/t", "proxy_read_maps"), false, opener.get());
    ProxyService service(cache);
    auto u = service.handle(
        req({{"request", "update"}, {"table", "hash:/t"}, {"flags", "0"}, {"key", "k"}, {"value", "v"}}));
    EXPECT_EQ(status_of(*u), "4");
    auto d = service.handle(req({{"request", "delete"}, {"table", "proxy:hash:/t"}, {"flags", "0"}, {"key", "k"}}));
    EXPECT_EQ(status_of(*d), "4");
    EXPECT_EQ(log.lines, (std::vector<std::string>{
                             "warning: refusing hash:/t update request on non-proxywrite service",
                             "warning: refusing proxy:hash:/t delete request on non-proxywrite service"}));
}

TEST(ProxymapService, WriterUpdatesDeletesAndWalks) {
    CountingOpener opener;
    TableCache cache(ApprovedTables::from_list("proxy:btree:/w", "proxy_write_maps"), true, opener.get());
    ProxyService service(cache);
    auto u = service.handle(
        req({{"request", "update"}, {"table", "btree:/w"}, {"flags", "0"}, {"key", "new"}, {"value", "v\n2"}}));
    EXPECT_EQ(status_of(*u), "0");
    auto l = service.handle(req({{"request", "lookup"}, {"table", "btree:/w"}, {"flags", "0"}, {"key", "new"}}));
    EXPECT_EQ(l->get_or("value", "?"), "v\n2");
    auto d = service.handle(req({{"request", "delete"}, {"table", "btree:/w"}, {"flags", "0"}, {"key", "foo"}}));
    EXPECT_EQ(status_of(*d), "0");
    auto d2 = service.handle(req({{"request", "delete"}, {"table", "btree:/w"}, {"flags", "0"}, {"key", "foo"}}));
    EXPECT_EQ(status_of(*d2), "1");
    // Updates are synchronous and replace duplicates.
    dict::Dict* table = cache.find("btree:/w", 0, false).table;
    EXPECT_TRUE(table->flags() & dict::kSync);
    std::vector<std::string> keys;
    std::string function = "first";
    for (;;) {
        auto s = service.handle(
            req({{"request", "sequence"}, {"table", "btree:/w"}, {"flags", "0"}, {"function", function}}));
        function = "next";
        if (status_of(*s) != "0") {
            EXPECT_EQ(status_of(*s), "1");
            break;
        }
        keys.push_back(std::string(s->get_or("key", "")) + "=" + s->get_or("value", ""));
    }
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys, (std::vector<std::string>{"Mixed=case", "new=v\n2"}));
}

// Real hash files: the read-only service notices a rebuilt file.
class ProxymapChange : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/proxymap-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

    void build(const std::string& name, const std::string& key, const std::string& value) {
        auto d = dict::open("hash:" + dir_ + "/" + name, O_RDWR | O_CREAT | O_TRUNC, dict::kBulkUpdate);
        ASSERT_TRUE(d) << d.error().text;
        ASSERT_EQ((*d)->update(key, value), dict::ChangeStatus::done);
        ASSERT_TRUE((*d)->close());
    }
    void set_mtime(const std::string& name, time_t t) {
        struct timespec times[2] = {{t, 0}, {t, 0}};
        ASSERT_EQ(::utimensat(AT_FDCWD, (dir_ + "/" + name).c_str(), times, 0), 0);
    }
    std::string dir_;
};

TEST_F(ProxymapChange, NamesTheRebuiltTable) {
    build("a", "k", "1");
    build("b", "k", "1");
    set_mtime("a.db", 1600000000);
    set_mtime("b.db", 1600000000);
    std::string a = "hash:" + dir_ + "/a";
    std::string b = "hash:" + dir_ + "/b";
    TableCache cache(ApprovedTables::from_list("proxy:" + a + " proxy:" + b, "proxy_read_maps"), false);
    ASSERT_NE(cache.find(a, 0, true).table, nullptr);
    ASSERT_NE(cache.find(b, dict::kTryNul, false).table, nullptr);
    EXPECT_FALSE(cache.changed_name());
    set_mtime("b.db", 1600000001);
    EXPECT_EQ(cache.changed_name(), b + ":try1null");
    // A file replaced by another (rename) counts as well.
    set_mtime("b.db", 1600000000);
    EXPECT_FALSE(cache.changed_name());
    build("a2", "k", "2");
    ASSERT_EQ(::rename((dir_ + "/a2.db").c_str(), (dir_ + "/a.db").c_str()), 0);
    EXPECT_EQ(cache.changed_name(), a + ":");
}

TEST_F(ProxymapChange, WriterDoesNotWatchAndCreatesFiles) {
    std::string w = "btree:" + dir_ + "/w";
    TableCache cache(ApprovedTables::from_list("proxy:" + w, "proxy_write_maps"), true);
    ProxyService service(cache);
    auto u = service.handle(req({{"request", "update"}, {"table", w}, {"flags", "0"}, {"key", "a"}, {"value", "b"}}));
    EXPECT_EQ(status_of(*u), "0");
    struct stat st {};
    EXPECT_EQ(::stat((dir_ + "/w.db").c_str(), &st), 0);
    set_mtime("w.db", 1600000000);
    EXPECT_FALSE(cache.changed_name());
    auto l = service.handle(req({{"request", "lookup"}, {"table", w}, {"flags", "0"}, {"key", "a"}}));
    EXPECT_EQ(l->get_or("value", "?"), "b");
}

}  // namespace
}  // namespace pf::proxymap
