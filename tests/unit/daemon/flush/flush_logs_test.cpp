// The fast-flush logs of flush(8) (daemon/flush/flush_logs.h) in a
// temporary queue directory: log names and contents as the reference
// writes them, what a send does to the queue files (time stamps, the move
// from deferred/ to incoming/, the unthrottle bit of a single-file send),
// the qmgr triggers, truncation, duplicates, bad lines, and refresh.
#include "daemon/flush/flush_logs.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/time.h>
#include <vector>

namespace pf::flush {
namespace {

namespace fs = std::filesystem;

class FlushLogsTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/flush-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        for (auto q : {"flush", "deferred", "incoming", "active"}) fs::create_directory(root_ + "/" + q);
        layout_.queue_directory = root_;
        layout_.hashed = {"deferred", "defer"};
        layout_.hash_depth = 1;
        util::msg_set_sink([this](util::MsgLevel level, std::string_view text) {
            if (level == util::MsgLevel::warning) warnings_.emplace_back(text);
        });
        util::msg_set_stderr(false);
    }
    void TearDown() override {
        util::msg_set_sink({});
        util::msg_set_stderr(true);
        fs::remove_all(root_);
    }

    FlushLogs logs() {
        return FlushLogs(layout_, false, [this](std::string_view b) { triggers_ += b; }, [] { return kNow; });
    }
    std::string read(const std::string& rel) {
        std::ifstream f(root_ + "/" + rel);
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }
    // A ready queue file in queue (hashed by its first character when the
    // queue is deferred), with an mtime in the future as a deferral leaves.
    std::string make_queue_file(const std::string& queue, const std::string& id, mode_t mode = 0700) {
        std::string dir = root_ + "/" + queue + (queue == "deferred" ? "/" + id.substr(0, 1) : "");
        fs::create_directories(dir);
        std::string path = dir + "/" + id;
        std::ofstream(path) << "x";
        ::chmod(path.c_str(), mode);
        struct timeval tv[2] = {{kNow + 3600, 0}, {kNow + 3600, 0}};
        ::utimes(path.c_str(), tv);
        return path;
    }
    static constexpr std::time_t kNow = 1700000000;

    std::string root_;
    queue::QueueLayout layout_;
    std::string triggers_;
    std::vector<std::string> warnings_;
};

TEST_F(FlushLogsTest, SiteNamesAsTheReference) {
    EXPECT_EQ(site_to_name("remote.test"), "remote_test");
    EXPECT_EQ(site_to_name("sub.remote-x.test"), "sub_remote_x_test");
    EXPECT_EQ(site_to_name("[192.0.2.1]"), "_192_0_2_1_");
    EXPECT_EQ(site_to_name("../etc"), "___etc");
}

TEST_F(FlushLogsTest, AddAppendsOneLinePerCallWithMode0600) {
    auto l = logs();
    EXPECT_EQ(l.add("remote_test", "E47D0A960FB"), ipc::FlushStatus::kOk);
    EXPECT_EQ(l.add("remote_test", "E47D0A960FB"), ipc::FlushStatus::kOk);
    EXPECT_EQ(l.add("remote_test", "4A1B2C3D4E"), ipc::FlushStatus::kOk);
    EXPECT_EQ(read("flush/remote_test"), "E47D0A960FB\nE47D0A960FB\n4A1B2C3D4E\n");
    struct stat st;
    ASSERT_EQ(::stat((root_ + "/flush/remote_test").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_TRUE(triggers_.empty());
}

TEST_F(FlushLogsTest, AddRejectsBadNamesAndIds) {
    auto l = logs();
    EXPECT_EQ(l.add("", "E47D0A960FB"), ipc::FlushStatus::kBad);
    EXPECT_EQ(l.add("a/b", "E47D0A960FB"), ipc::FlushStatus::kBad);
    EXPECT_EQ(l.add("..", "E47D0A960FB"), ipc::FlushStatus::kBad);
    EXPECT_EQ(l.add("remote_test", "../x"), ipc::FlushStatus::kBad);
    EXPECT_EQ(l.add(std::string(256, 'a'), "E47D0A960FB"), ipc::FlushStatus::kBad);
    EXPECT_TRUE(fs::is_empty(root_ + "/flush"));
}

TEST_F(FlushLogsTest, SendMovesDeferredFilesTouchesThemAndTruncates) {
    auto l = logs();
    std::string a = make_queue_file("deferred", "E47D0A960FB");
    make_queue_file("deferred", "4A1B2C3D4E");
    l.add("remote_test", "E47D0A960FB");
    l.add("remote_test", "4A1B2C3D4E");
    l.add("remote_test", "E47D0A960FB");
    l.add("remote_test", "0123456789");  // no longer queued
    EXPECT_EQ(l.send("remote_test", kUnthrottleBefore), ipc::FlushStatus::kOk);
    EXPECT_FALSE(fs::exists(a));
    struct stat st;
    ASSERT_EQ(::stat((root_ + "/incoming/E47D0A960FB").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtime, kNow);
    EXPECT_EQ(st.st_mode & 07777, 0700u);  // only send_file marks files
    EXPECT_TRUE(fs::exists(root_ + "/incoming/4A1B2C3D4E"));
    EXPECT_EQ(read("flush/remote_test"), "");
    EXPECT_EQ(triggers_, "FI");
    EXPECT_TRUE(warnings_.empty());
}

TEST_F(FlushLogsTest, SendOfAMissingOrEmptyLogTriggersNothing) {
    auto l = logs();
    EXPECT_EQ(l.send("nowhere_test", kUnthrottleBefore), ipc::FlushStatus::kOk);
    EXPECT_EQ(triggers_, "");  // no log: qmgr is not bothered at all
    EXPECT_FALSE(fs::exists(root_ + "/flush/nowhere_test"));
    std::ofstream(root_ + "/flush/empty_test").close();
    EXPECT_EQ(l.send("empty_test", kRefreshOnly), ipc::FlushStatus::kOk);
    EXPECT_EQ(triggers_, "");
    EXPECT_EQ(l.send("bad/name", kRefreshOnly), ipc::FlushStatus::kBad);
}

TEST_F(FlushLogsTest, SendWarnsAboutBadLinesAndStillEmptiesTheLog) {
    auto l = logs();
    std::ofstream(root_ + "/flush/remote_test") << "../../etc/passwd\nE47D0A960FB\n";
    make_queue_file("deferred", "E47D0A960FB");
    l.send("remote_test", kRefreshOnly);
    ASSERT_EQ(warnings_.size(), 1u);
    EXPECT_EQ(warnings_[0], "bad queue id \"../../etc/passwd...\" in fast flush logfile remote_test");
    EXPECT_TRUE(fs::exists(root_ + "/incoming/E47D0A960FB"));
    EXPECT_EQ(read("flush/remote_test"), "");
    EXPECT_EQ(triggers_, "I");
}

TEST_F(FlushLogsTest, SendFindsFilesAnotherFlushAlreadyMoved) {
    auto l = logs();
    make_queue_file("incoming", "E47D0A960FB");
    l.add("remote_test", "E47D0A960FB");
    l.send("remote_test", kRefreshOnly);
    struct stat st;
    ASSERT_EQ(::stat((root_ + "/incoming/E47D0A960FB").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtime, kNow);
    EXPECT_EQ(triggers_, "I");
}

TEST_F(FlushLogsTest, SendFileMarksTheFileForUnthrottling) {
    auto l = logs();
    make_queue_file("deferred", "E47D0A960FB");
    EXPECT_EQ(l.send_file("E47D0A960FB"), ipc::FlushStatus::kOk);
    struct stat st;
    ASSERT_EQ(::stat((root_ + "/incoming/E47D0A960FB").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0740u);
    EXPECT_EQ(st.st_mtime, kNow);
    EXPECT_EQ(triggers_, "I");
}

TEST_F(FlushLogsTest, SendFileLeavesIncompleteAndMissingFilesAlone) {
    auto l = logs();
    std::string path = make_queue_file("deferred", "E47D0A960FB", 0600);
    EXPECT_EQ(l.send_file("E47D0A960FB"), ipc::FlushStatus::kOk);
    EXPECT_TRUE(fs::exists(path));
    EXPECT_EQ(l.send_file("0123456789"), ipc::FlushStatus::kOk);
    EXPECT_EQ(l.send_file("../etc"), ipc::FlushStatus::kBad);
    EXPECT_EQ(triggers_, "");
}

TEST_F(FlushLogsTest, RefreshSendsStaleLogsAndRemovesOldEmptyOnes) {
    auto l = logs();
    auto age = [&](const std::string& rel, std::time_t when) {
        struct timeval tv[2] = {{when, 0}, {when, 0}};
        ::utimes((root_ + "/" + rel).c_str(), tv);
    };
    make_queue_file("deferred", "E47D0A960FB");
    make_queue_file("deferred", "4A1B2C3D4E");
    l.add("stale_test", "E47D0A960FB");
    age("flush/stale_test", kNow - 13 * 3600);
    l.add("fresh_test", "4A1B2C3D4E");
    age("flush/fresh_test", kNow - 3600);
    std::ofstream(root_ + "/flush/old_empty").close();
    age("flush/old_empty", kNow - 8 * 86400);
    std::ofstream(root_ + "/flush/new_empty").close();
    age("flush/new_empty", kNow - 86400);
    std::ofstream(root_ + "/flush/not.a.log") << "E47D0A960FB\n";
    l.refresh(12 * 3600, 7 * 86400);
    EXPECT_TRUE(fs::exists(root_ + "/incoming/E47D0A960FB"));
    EXPECT_FALSE(fs::exists(root_ + "/incoming/4A1B2C3D4E"));
    EXPECT_EQ(read("flush/stale_test"), "");
    EXPECT_EQ(read("flush/fresh_test"), "4A1B2C3D4E\n");
    EXPECT_FALSE(fs::exists(root_ + "/flush/old_empty"));
    EXPECT_TRUE(fs::exists(root_ + "/flush/new_empty"));
    EXPECT_TRUE(fs::exists(root_ + "/flush/not.a.log"));
    EXPECT_EQ(triggers_, "I");  // a refresh does not make qmgr forget dead sites
    // A purge is a refresh with no age limit.
    triggers_.clear();
    age("flush/fresh_test", kNow - 1);
    l.refresh(0, 7 * 86400);
    EXPECT_TRUE(fs::exists(root_ + "/incoming/4A1B2C3D4E"));
    EXPECT_EQ(triggers_, "I");
}

}  // namespace
}  // namespace pf::flush
