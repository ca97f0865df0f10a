// Unit tests for the pool of emptied queue files (queue/queue_file_pool.h):
// a finished file goes into the pool with mode 0600, its content zeros
// (or truncated), and keeps its inode; the next writer created from the
// pool gets that inode with mode 0600 and no old content, and its
// committed file holds exactly what it wrote, whether the old message was
// longer or shorter; an entry not emptied by qmgr is truncated when taken;
// an empty or missing pool falls back to creating a file; an entry that is
// not a plain file of ours, or a file with another link, is never used.
#include "queue/queue_file_pool.h"

#include "queue/queue_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::queue {
namespace {

namespace fs = std::filesystem;

struct PoolDir {
    fs::path path;
    PoolDir() {
        std::string templ = (fs::temp_directory_path() / "pf-pool-test-XXXXXX").string();
        path = ::mkdtemp(templ.data());
        for (const char* d : {"incoming", "active", "recycle"}) fs::create_directory(path / d);
    }
    ~PoolDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    QueueLayout layout() const {
        QueueLayout l;
        l.queue_directory = path.string();
        return l;
    }
    std::string pool() const { return (path / "recycle").string(); }
};

std::string contents(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// What a writer of a new file writes for these records.
std::string fresh_file(const PoolDir& q, const std::vector<std::string>& records) {
    auto writer = QueueFileWriter::create(q.layout(), kIncoming);
    EXPECT_TRUE(writer);
    for (const std::string& r : records) EXPECT_TRUE(writer->write('N', r));
    EXPECT_TRUE(writer->commit());
    std::string text = contents(writer->path());
    fs::remove(writer->path());
    return text;
}

// A finished queue file in active/ with this content, mode 0700.
fs::path active_file(const PoolDir& q, const std::string& id, const std::string& text) {
    fs::path p = q.path / "active" / id;
    { std::ofstream(p, std::ios::binary) << text; }
    ::chmod(p.c_str(), 0700);
    return p;
}

ino_t inode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
}

TEST(QueueFilePool, RecycledFileIsEmptiedAndTakenAgainWithItsInode) {
    PoolDir q;
    const std::string old_text(10000, 'o');
    fs::path done = active_file(q, "ABC123", old_text);
    const ino_t inode = inode_of(done);

    ASSERT_TRUE(recycle_queue_file(done.string(), q.pool(), "ABC123"));
    EXPECT_FALSE(fs::exists(done));
    fs::path pooled = q.path / "recycle" / "ABC123";
    struct stat st {};
    ASSERT_EQ(::stat(pooled.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, kModePooled);
    // Zeros where the filesystem keeps the blocks (ext4, XFS), else empty.
    const std::string left = contents(pooled);
    EXPECT_TRUE(left.empty() || left == std::string(old_text.size(), '\0')) << left.substr(0, 16);
    EXPECT_EQ(count_pooled_files(q.pool()), 1u);

    auto writer = QueueFileWriter::create(q.layout(), kIncoming, /*from_pool=*/true);
    ASSERT_TRUE(writer) << writer.error();
    EXPECT_EQ(queue_id_inode(writer->id()), inode);
    EXPECT_EQ(count_pooled_files(q.pool()), 0u);
    ASSERT_EQ(::stat(writer->path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, kModeWriting);
    EXPECT_EQ(contents(writer->path()).find('o'), std::string::npos);
    ASSERT_TRUE(writer->write('N', "new"));
    ASSERT_TRUE(writer->commit());
    EXPECT_EQ(contents(writer->path()), fresh_file(q, {"new"}));
    ASSERT_EQ(::stat(writer->path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, kModeReady);
}

TEST(QueueFilePool, CommittedFileHoldsExactlyWhatWasWrittenAfterALongerOrShorterMessage) {
    // (old size, new records): shorter and longer than the old message,
    // within its last block and across block boundaries.
    const std::vector<std::pair<std::size_t, std::vector<std::string>>> runs = {
        {20000, {"short"}},
        {5000, {std::string(3000, 'a'), std::string(1500, 'b')}},
        {100, {std::string(9000, 'c'), "tail"}},
        {4096, {std::string(4090, 'd')}},
    };
    for (const auto& [old_size, records] : runs) {
        PoolDir q;
        fs::path done = active_file(q, "OLD1", std::string(old_size, 'o'));
        ASSERT_TRUE(recycle_queue_file(done.string(), q.pool(), "OLD1"));
        auto writer = QueueFileWriter::create(q.layout(), kIncoming, /*from_pool=*/true);
        ASSERT_TRUE(writer) << writer.error();
        ASSERT_TRUE(fs::exists(writer->path()));
        ASSERT_EQ(count_pooled_files(q.pool()), 0u) << "the pooled file was taken";
        for (const std::string& r : records) ASSERT_TRUE(writer->write('N', r));
        ASSERT_TRUE(writer->commit());
        EXPECT_EQ(contents(writer->path()), fresh_file(q, records)) << "old size " << old_size;
    }
}

TEST(QueueFilePool, FileAboveTheKeepLimitGoesInTruncated) {
    PoolDir q;
    fs::path done = active_file(q, "BIG1", std::string(static_cast<std::size_t>(kKeepLimit) + 1, 'o'));
    ASSERT_TRUE(recycle_queue_file(done.string(), q.pool(), "BIG1"));
    EXPECT_EQ(fs::file_size(q.path / "recycle" / "BIG1"), 0u);
    struct stat st {};
    ASSERT_EQ(::stat((q.path / "recycle" / "BIG1").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, kModePooled);
}

TEST(QueueFilePool, CutToWrittenRemovesTheZerosBeforeCommit) {
    PoolDir q;
    fs::path done = active_file(q, "OLD2", std::string(30000, 'o'));
    ASSERT_TRUE(recycle_queue_file(done.string(), q.pool(), "OLD2"));
    auto writer = QueueFileWriter::create(q.layout(), kIncoming, /*from_pool=*/true);
    ASSERT_TRUE(writer) << writer.error();
    ASSERT_TRUE(writer->write('N', "partial"));
    ASSERT_TRUE(writer->cut_to_written());
    EXPECT_EQ(fs::file_size(writer->path()), static_cast<std::uintmax_t>(writer->offset()));
    ASSERT_TRUE(writer->write('N', "more"));
    ASSERT_TRUE(writer->commit());
    EXPECT_EQ(contents(writer->path()), fresh_file(q, {"partial", "more"}));
}

TEST(QueueFilePool, EntryNotEmptiedByRecycleIsTruncatedWhenTaken) {
    // An entry left by an earlier version (mode 0700) or put there by
    // hand: whatever it holds never reaches the new message.
    PoolDir q;
    fs::path pooled = q.path / "recycle" / "LEGACY";
    { std::ofstream(pooled) << std::string(6000, 'o'); }
    ::chmod(pooled.c_str(), 0700);
    const ino_t inode = inode_of(pooled);
    auto writer = QueueFileWriter::create(q.layout(), kIncoming, /*from_pool=*/true);
    ASSERT_TRUE(writer) << writer.error();
    EXPECT_EQ(queue_id_inode(writer->id()), inode);
    EXPECT_EQ(fs::file_size(writer->path()), 0u);
    struct stat st {};
    ASSERT_EQ(::stat(writer->path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, kModeWriting);
    ASSERT_TRUE(writer->write('N', "x"));
    ASSERT_TRUE(writer->commit());
    EXPECT_EQ(contents(writer->path()), fresh_file(q, {"x"}));
}

TEST(QueueFilePool, FileWithAnotherLinkIsNeitherEmptiedNorPooled) {
    PoolDir q;
    fs::path done = active_file(q, "TWO", "keep me");
    fs::create_hard_link(done, q.path / "saved-copy");
    EXPECT_FALSE(recycle_queue_file(done.string(), q.pool(), "TWO"));
    EXPECT_EQ(contents(q.path / "saved-copy"), "keep me");
    struct stat st {};
    ASSERT_EQ(::stat(done.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(count_pooled_files(q.pool()), 0u);
}

TEST(QueueFilePool, EmptyOrMissingPoolFallsBackToANewFile) {
    PoolDir q;
    auto writer = QueueFileWriter::create(q.layout(), kIncoming, /*from_pool=*/true);
    ASSERT_TRUE(writer) << writer.error();
    EXPECT_TRUE(fs::exists(writer->path()));
    fs::remove(q.path / "recycle");
    fs::path done = q.path / "active" / "DEF456";
    { std::ofstream(done) << "x"; }
    EXPECT_FALSE(recycle_queue_file(done.string(), q.pool(), "DEF456"));
    EXPECT_TRUE(fs::exists(done));
    EXPECT_EQ(count_pooled_files(q.pool()), 0u);
}

TEST(QueueFilePool, EntryThatIsNotAPlainFileWithOneLinkIsNotUsed) {
    PoolDir q;
    fs::path pooled = q.path / "recycle" / "LINKED";
    { std::ofstream(pooled) << "x"; }
    fs::create_hard_link(pooled, q.path / "active" / "OTHER");
    const std::string temp = (q.path / "incoming" / "tmp.1").string();
    struct stat st {};
    EXPECT_EQ(take_pooled_file(q.pool(), temp, st), -1);
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_TRUE(fs::exists(q.path / "active" / "OTHER"));  // the other link is untouched
}

}  // namespace
}  // namespace pf::queue
