// postsuper(1)'s parts without root or a running system: the inode numbers
// the reference reads out of queue file names (table-driven, including
// what its strtoul-based reader tolerates), the names -s gives, and the
// operations by ID and by queue scan on a queue built in a temporary
// directory (compared with what the reference does, as observed by
// compat-suite/queue-ops/postsuper_compat.py).
#include "cmd/postsuper/postsuper.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fmt/core.h>
#include <fstream>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::postsuper {
namespace {

namespace fs = std::filesystem;

struct NameCase {
    const char* name;
    unsigned long inode;
    bool long_form;
    bool error;
};

TEST(PostsuperQueueId, InodeOfName) {
    const NameCase cases[] = {
        {"ABCDE12345", 0x12345, false, false},
        {"ABCDE", 0, false, false},               // empty inode part reads as 0
        {"ABCDEabc", 0xabc, false, false},        // strtoul takes lower case
        {"ABCDE0x1F", 0x1F, false, false},        // and a 0x prefix
        {"ABCDE0x", 0, false, true},              // "0" read, "x" left over
        {"ABCDEXYZ", 0, false, true},
        {"ABCDE1_2", 1, false, true},
        {"ABC", 0, false, true},                  // shorter than the microseconds
        {"ABCDE11111111111111111", ULONG_MAX, false, true},  // too large
        {"4dQ3Bm6Ynbz1xN", 0, true, false},       // value checked below
        {"4dQ3Bm6YnbzBBBB", 0, true, false},      // value checked below
        {"4dQ3Bm6Ynbz", 0, true, false},          // empty inode part reads as 0
        {"4dQ3Bm6Ynbz_", 0, true, true},
        {"Bm6Ynbz1x", 0, false, true},            // 'z' too early: a short name
    };
    for (const auto& c : cases) {
        InodeOfName got = inode_of_name(c.name);
        EXPECT_EQ(got.long_form, c.long_form) << c.name;
        EXPECT_EQ(got.error, c.error) << c.name;
        const bool checked_below = c.long_form && c.name[std::string_view(c.name).size() - 1] != 'z';
        if (!c.error && !checked_below) {
            EXPECT_EQ(got.inode, c.inode) << c.name;
        }
    }
    // Base 51 in the vowel-free alphabet: "1xN" = 1*51^2 + 'x'*51 + 'N'.
    const std::string_view safe = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
    unsigned long expect = 1UL * 51 * 51 + safe.find('x') * 51 + safe.find('N');
    EXPECT_EQ(inode_of_name("4dQ3Bm6Ynbz1xN").inode, expect);
    unsigned long bbbb = 0;
    for (int i = 0; i < 4; ++i) bbbb = bbbb * 51 + safe.find('B');
    EXPECT_EQ(inode_of_name("4dQ3Bm6YnbzBBBB").inode, bbbb);
}

TEST(PostsuperQueueId, NameForInode) {
    EXPECT_EQ(name_for_inode("ABCDE12345", 0x9F, false), "ABCDE9F");
    EXPECT_EQ(name_for_inode("ABCDE12345", 0x9F, true), "ABCDE9F");  // short names stay short
    EXPECT_EQ(name_for_inode("AB", 0x10, false), "AB10");
    // Long stays long with long IDs on: the time part is kept.
    EXPECT_EQ(name_for_inode("4dQ3Bm6Ynbz1xN", 51, true), "4dQ3Bm6Ynbz10");
    // Long becomes short with long IDs off: microseconds as five hex digits.
    const std::string_view safe = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
    unsigned long usec = 0;
    for (char c : std::string_view("6Ynb")) usec = usec * 52 + safe.find(c);
    EXPECT_EQ(name_for_inode("4dQ3Bm6Ynbz1xN", 0xABC, false), fmt::format("{:05X}ABC", usec));
    // Round trip: the name made for an inode reads back as that inode.
    for (unsigned long ino : {1UL, 51UL, 123456789UL}) {
        EXPECT_EQ(inode_of_name(name_for_inode("4dQ3Bm6Ynbz1xN", ino, true)).inode, ino);
        EXPECT_EQ(inode_of_name(name_for_inode("12345ABC", ino, false)).inode, ino);
    }
}

TEST(PostsuperQueueInfo, Table) {
    util::msg_fatal_throws(true);
    EXPECT_TRUE(find_queue_info("hold").message_queue());
    EXPECT_FALSE(find_queue_info("defer").message_queue());
    EXPECT_FALSE(find_queue_info("maildrop").recurse);
    EXPECT_THROW(find_queue_info("corrupt"), util::FatalError);
    EXPECT_THROW(find_queue_info("saved"), util::FatalError);
    EXPECT_EQ(default_queues().front(), "defer");
    EXPECT_EQ(default_queues().size(), 8u);
    util::msg_fatal_throws(false);
}

// A queue directory in a temporary folder; the test runs chdir'ed there,
// as postsuper does.
class PostsuperQueue : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/postsuper-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        root_ = pattern;
        ASSERT_EQ(::getcwd(saved_cwd_, sizeof saved_cwd_) != nullptr, true);
        ASSERT_EQ(::chdir(root_.c_str()), 0);
        for (auto q : {"maildrop", "incoming", "active", "deferred", "hold", "defer", "bounce", "trace", "flush"})
            fs::create_directory(q);
        ctx_.layout.queue_directory = root_;
        ctx_.layout.hash_depth = 1;
        ctx_.layout.hashed = {"deferred", "defer"};
        util::msg_set_quiet(true);
    }
    void TearDown() override {
        util::msg_set_quiet(false);
        (void)::chdir(saved_cwd_);
        fs::remove_all(root_);
    }
    // A ready message file in queue, named after its inode; returns the ID.
    std::string message(std::string_view queue, mode_t mode = 0700, std::string_view usec = "ABCDE") {
        std::string tmp = fmt::format("{}/tmp", queue);
        { std::ofstream(tmp) << "message\n"; }
        struct stat st;
        ::stat(tmp.c_str(), &st);
        std::string id = fmt::format("{}{:X}", usec, static_cast<unsigned long>(st.st_ino));
        std::string path = ctx_.path(queue, id);
        fs::create_directories(fs::path(path).parent_path());
        fs::rename(tmp, path);
        ::chmod(path.c_str(), mode);
        return id;
    }
    void log(std::string_view queue, const std::string& id) {
        std::string path = ctx_.path(queue, id);
        fs::create_directories(fs::path(path).parent_path());
        std::ofstream(path) << "log\n";
    }
    // Every file below the queue directory, relative.
    std::set<std::string> files() {
        std::set<std::string> out;
        for (auto& e : fs::recursive_directory_iterator("."))
            if (!e.is_directory()) out.insert(fs::relative(e.path(), ".").string());
        return out;
    }
    std::string root_;
    char saved_cwd_[4096];
    Context ctx_;
};

TEST_F(PostsuperQueue, DeleteOneRemovesLogsToo) {
    std::string id = message("deferred");
    log("defer", id);
    log("bounce", id);
    log("trace", id);
    std::string other = message("hold");
    delete_one(ctx_, default_queues(), id);
    EXPECT_EQ(ctx_.counters.deleted, 1);
    EXPECT_EQ(files(), std::set<std::string>{"hold/" + other});
    delete_one(ctx_, default_queues(), id);  // gone: not counted
    delete_one(ctx_, default_queues(), "../hold/" + other);  // no path tricks
    EXPECT_EQ(ctx_.counters.deleted, 1);
    EXPECT_EQ(files().size(), 1u);
}

TEST_F(PostsuperQueue, DeleteOneSkipsFilesNotReady) {
    std::string id = message("incoming", 0600);
    delete_one(ctx_, default_queues(), id);
    EXPECT_EQ(ctx_.counters.deleted, 0);
    EXPECT_EQ(files().size(), 1u);
}

TEST_F(PostsuperQueue, DeleteAllCountsReadyMessagesOnly) {
    message("incoming");
    message("deferred");
    message("hold");
    message("incoming", 0600);
    std::string id = message("active");
    log("defer", id);
    scan_queues(ctx_, default_queues(), kDeleteAll);
    EXPECT_EQ(ctx_.counters.deleted, 4);
    EXPECT_TRUE(files().empty());
}

// Many entries, with files that are not counted, a symbolic link and
// directories among them.
TEST_F(PostsuperQueue, DeleteAllManyFilesCountsReadyOnes) {
    int ready = 0;
    for (int i = 0; i < 1500; ++i) {
        message("hold", i % 7 == 0 ? 0600 : 0700, fmt::format("{:05X}", i));
        if (i % 7 != 0) ++ready;
    }
    fs::create_directory("hold/emptydir");
    fs::create_directory("hold/fulldir");
    { std::ofstream("hold/fulldir/x") << "x"; }
    ::symlink("nowhere", "hold/link");
    scan_queues(ctx_, default_queues(), kDeleteAll);
    // The symbolic link counts as well: its owner bits are rwx (as with
    // the reference).
    EXPECT_EQ(ctx_.counters.deleted, ready + 1);
    EXPECT_EQ(files(), std::set<std::string>{"hold/fulldir/x"});
    EXPECT_FALSE(fs::exists("hold/emptydir"));
}

TEST_F(PostsuperQueue, HoldReleaseRequeue) {
    std::string a = message("deferred");
    std::string b = message("maildrop");
    std::string c = message("incoming");
    hold_one(ctx_, default_queues(), a);
    hold_one(ctx_, default_queues(), b);  // maildrop mail is never held
    EXPECT_EQ(ctx_.counters.held, 1);
    EXPECT_TRUE(files().contains("hold/" + a));
    release_one(ctx_, default_queues(), a);
    EXPECT_EQ(ctx_.counters.released, 1);
    EXPECT_TRUE(files().contains(ctx_.path("deferred", a)));
    scan_queues(ctx_, default_queues(), kRequeueAll);
    EXPECT_EQ(ctx_.counters.requeued, 2);
    EXPECT_EQ(files(), (std::set<std::string>{"maildrop/" + a, "maildrop/" + b, "maildrop/" + c}));
}

TEST_F(PostsuperQueue, ExpireSetsGroupExecuteOnce) {
    std::string a = message("hold");
    expire_one(ctx_, default_queues(), a);
    expire_one(ctx_, default_queues(), a);
    EXPECT_EQ(ctx_.counters.expired, 1);
    struct stat st;
    ASSERT_EQ(::stat(("hold/" + a).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0710u);
    expire_release_one(ctx_, default_queues(), a);
    EXPECT_EQ(ctx_.counters.released, 1);
}

TEST_F(PostsuperQueue, StructureMovesFilesToTheirHashDirectory) {
    std::string a = message("deferred");
    std::string wrong = "deferred/" + a;
    fs::rename(ctx_.path("deferred", a), wrong);
    ctx_.layout.hashed = {"deferred", "defer", "hold"};
    std::string h = message("incoming");
    fs::rename("incoming/" + h, "hold/" + h);
    scan_queues(ctx_, default_queues(), kStruct | kPurge);
    EXPECT_EQ(ctx_.counters.position_mismatch, 2);
    EXPECT_EQ(files(), (std::set<std::string>{ctx_.path("deferred", a), ctx_.path("hold", h)}));
}

TEST_F(PostsuperQueue, StructureRenamesMisnamedFilesInTwoPasses) {
    std::string a = message("active");
    fs::rename("active/" + a, "active/ABCDE12345");
    log("defer", "ABCDE12345");
    scan_queues(ctx_, default_queues(), kStruct);
    EXPECT_EQ(ctx_.counters.inode_mismatch, 1);
    scan_queues(ctx_, default_queues(), kStruct);
    EXPECT_EQ(files(), (std::set<std::string>{"active/" + a, ctx_.path("defer", a)}));
}

TEST_F(PostsuperQueue, PurgeRemovesOldTemporaryFilesOnly) {
    { std::ofstream("incoming/12345.678") << "x"; }
    { std::ofstream("incoming/22345.678") << "x"; }
    ::chmod("incoming/12345.678", 0600);
    ::chmod("incoming/22345.678", 0600);
    struct timespec old[2] = {{0, 0}, {std::time(nullptr) - 8 * 24 * 3600, 0}};
    old[0] = old[1];
    ::utimensat(AT_FDCWD, "incoming/12345.678", old, 0);
    ASSERT_EQ(::mkfifo("hold/FIFO", 0600), 0);
    scan_queues(ctx_, default_queues(), kPurge);
    EXPECT_EQ(files(), std::set<std::string>{"incoming/22345.678"});
}

}  // namespace
}  // namespace pf::postsuper
