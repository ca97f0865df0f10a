// Unit tests for the pool of emptied queue files (queue/queue_file_pool.h):
// a finished file goes into the pool emptied and keeps its inode; the next
// writer created from the pool gets that inode with mode 0600 and no old
// content; an empty or missing pool falls back to creating a file; an entry
// that is not a plain file of ours is never used.
#include "queue/queue_file_pool.h"

#include "queue/queue_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
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

ino_t inode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
}

TEST(QueueFilePool, RecycledFileIsEmptiedAndTakenAgainWithItsInode) {
    PoolDir q;
    fs::path done = q.path / "active" / "ABC123";
    { std::ofstream(done) << "old message text"; }
    ::chmod(done.c_str(), 0700);
    const ino_t inode = inode_of(done);

    ASSERT_TRUE(recycle_queue_file(done.string(), q.pool(), "ABC123"));
    EXPECT_FALSE(fs::exists(done));
    EXPECT_EQ(fs::file_size(q.path / "recycle" / "ABC123"), 0u);
    EXPECT_EQ(count_pooled_files(q.pool()), 1u);

    auto writer = QueueFileWriter::create(q.layout(), kIncoming, /*from_pool=*/true);
    ASSERT_TRUE(writer) << writer.error();
    EXPECT_EQ(queue_id_inode(writer->id()), inode);
    EXPECT_EQ(count_pooled_files(q.pool()), 0u);
    struct stat st {};
    ASSERT_EQ(::stat(writer->path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, kModeWriting);
    EXPECT_EQ(st.st_size, 0);
    ASSERT_TRUE(writer->write('X', "new"));
    ASSERT_TRUE(writer->commit());
    EXPECT_GT(fs::file_size(writer->path()), 0u);
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
