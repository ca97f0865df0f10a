// Unit tests for queue IDs, paths and the queue-file writer
// (queue/queue_file.h), with the names observed from the reference 3.7.11:
// short IDs hash on their first characters, long IDs on the microseconds
// re-encoded as five hex digits.
#include "queue/queue_file.h"

#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::queue {
namespace {

namespace fs = std::filesystem;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string templ = (fs::temp_directory_path() / "pf-queue-test-XXXXXX").string();
        path = ::mkdtemp(templ.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

QueueLayout layout_for(const fs::path& dir, bool long_ids = false, int depth = 1) {
    QueueLayout layout;
    layout.queue_directory = dir.string();
    layout.long_ids = long_ids;
    layout.hash_depth = depth;
    layout.hashed = {"deferred", "defer"};
    return layout;
}

TEST(QueueId, ShortFormat) {
    EXPECT_EQ(make_queue_id(false, 0x1234, 1700000000, 5), "000051234");
    EXPECT_EQ(make_queue_id(false, 0xABCDEF, 1, 999999), "F423FABCDEF");
}

TEST(QueueId, LongFormat) {
    // Seconds in base 52 padded to six, microseconds padded to four, 'z',
    // the inode in base 51.
    EXPECT_EQ(make_queue_id(true, 0, 0, 0), "0000000000z");
    EXPECT_EQ(make_queue_id(true, 51, 52, 53), "0000100011z10");
    // A value observed from the reference: 4VxK3w0Bp1z8K3 style IDs are
    // seconds+usec+z+inode; check the round trip of the inode.
    std::string id = make_queue_id(true, 1234567, 1764000000, 123456);
    EXPECT_EQ(id.size() >= 12, true);
    EXPECT_EQ(queue_id_inode(id), 1234567UL);
    EXPECT_EQ(queue_id_inode(make_queue_id(false, 0xFEDCBA, 1, 7)), 0xFEDCBAUL);
}

TEST(QueueId, Validity) {
    EXPECT_TRUE(is_queue_id("3F2A1B7C"));
    EXPECT_TRUE(is_queue_id("4dQ3Bm6Ynbz1xN"));
    EXPECT_TRUE(is_queue_id("example_com"));
    EXPECT_FALSE(is_queue_id(""));
    EXPECT_FALSE(is_queue_id("../etc"));
    EXPECT_FALSE(is_queue_id("a.b"));
    EXPECT_FALSE(is_queue_id("a/b"));
    EXPECT_FALSE(is_queue_id(std::string(256, 'A')));
    EXPECT_TRUE(is_queue_id(std::string(255, 'A')));
}

TEST(QueueLayout, HashDirsShort) {
    QueueLayout layout = layout_for("/q");
    EXPECT_EQ(layout.hash_dirs("deferred", "3F2A1B7C"), "3/");
    EXPECT_EQ(layout.hash_dirs("incoming", "3F2A1B7C"), "");
    EXPECT_EQ(layout.hash_dirs("DEFERRED", "3F2A1B7C"), "3/");
    layout.hash_depth = 2;
    EXPECT_EQ(layout.hash_dirs("defer", "3F2A1B7C"), "3/F/");
    EXPECT_EQ(layout.hash_dirs("defer", "A"), "A/_/");
    EXPECT_EQ(layout.path("deferred", "3F2A1B7C"), "/q/deferred/3/F/3F2A1B7C");
    EXPECT_EQ(layout.path("active", "3F2A1B7C", true), "active/3F2A1B7C");
}

TEST(QueueLayout, HashDirsLong) {
    QueueLayout layout = layout_for("/q", true, 2);
    // microseconds 0xABCDE = 703710 -> hex "ABCDE"
    std::string id = make_queue_id(true, 4242, 1764000000, 0xABCDE);
    EXPECT_EQ(layout.hash_dirs("deferred", id), "A/B/");
    std::string id2 = make_queue_id(true, 4242, 1764000000, 0x0BCDE);
    EXPECT_EQ(layout.hash_dirs("deferred", id2), "0/B/");
}

TEST(QueueLayout, FromConfig) {
    TempDir dir;
    {
        std::ofstream out(dir.path / "main.cf");
        out << "queue_directory = " << dir.path.string() << "/spool\n"
            << "enable_long_queue_ids = yes\nhash_queue_depth = 2\nhash_queue_names = deferred, hold\n";
    }
    config::Config config(dir.path.string());
    config.load_main_cf(true);
    QueueLayout layout = QueueLayout::from_config(config);
    EXPECT_EQ(layout.queue_directory, dir.path.string() + "/spool");
    EXPECT_TRUE(layout.long_ids);
    EXPECT_EQ(layout.hash_depth, 2);
    ASSERT_EQ(layout.hashed.size(), 2u);
    EXPECT_EQ(layout.hashed[1], "hold");
}

TEST(QueueFileWriter, CommitKeepsFileReady) {
    TempDir dir;
    fs::create_directory(dir.path / "deferred");
    QueueLayout layout = layout_for(dir.path, false, 2);
    std::string path;
    {
        auto writer = QueueFileWriter::create(layout, "deferred");
        ASSERT_TRUE(writer.has_value()) << writer.error();
        path = writer->path();
        struct stat st;
        ASSERT_EQ(::stat(path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, kModeWriting);
        EXPECT_EQ(queue_id_inode(writer->id()), static_cast<unsigned long>(st.st_ino));
        EXPECT_EQ(path, layout.path("deferred", writer->id()));
        EXPECT_EQ(writer->offset(), 0);
        EXPECT_TRUE(writer->write(rec::kTime, "1 2"));
        EXPECT_EQ(writer->offset(), 5);
        EXPECT_TRUE(writer->write(rec::kEnd, ""));
        auto done = writer->commit();
        ASSERT_TRUE(done.has_value()) << done.error();
        ASSERT_EQ(::stat(path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, kModeReady);
    }
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(data, std::string("T\x03" "1 2E\x00", 7));
    // Nothing else left behind (no temporary file).
    int files = 0;
    for (auto& e : fs::recursive_directory_iterator(dir.path / "deferred"))
        if (e.is_regular_file()) ++files;
    EXPECT_EQ(files, 1);
}

TEST(QueueFileWriter, UncommittedIsRemoved) {
    TempDir dir;
    fs::create_directory(dir.path / "incoming");
    QueueLayout layout = layout_for(dir.path, true);
    std::string path;
    {
        auto writer = QueueFileWriter::create(layout, "incoming");
        ASSERT_TRUE(writer.has_value()) << writer.error();
        path = writer->path();
        EXPECT_TRUE(fs::exists(path));
        // Moving keeps one owner.
        QueueFileWriter moved(std::move(*writer));
        EXPECT_EQ(moved.path(), path);
        EXPECT_TRUE(moved.write(rec::kTime, "x"));
    }
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::is_empty(dir.path / "incoming"));
}

TEST(QueueFileWriter, MissingQueueDirectoryIsAnError) {
    TempDir dir;
    auto writer = QueueFileWriter::create(layout_for(dir.path), "incoming");
    ASSERT_FALSE(writer.has_value());
    EXPECT_NE(writer.error().find("create file"), std::string::npos);
}

TEST(QueueFileWriter, MarkRecord) {
    TempDir dir;
    fs::create_directory(dir.path / "active");
    auto writer = QueueFileWriter::create(layout_for(dir.path), "active");
    ASSERT_TRUE(writer.has_value());
    writer->write(rec::kTime, "1");
    long at = writer->offset();
    writer->write(rec::kRcpt, "a@b");
    ASSERT_TRUE(writer->commit().has_value());
    int fd = ::open(writer->path().c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(mark_record(fd, at, rec::kDone).has_value());
    EXPECT_FALSE(mark_record(fd, -1, rec::kDone).has_value());
    char c = 0;
    ASSERT_EQ(::pread(fd, &c, 1, at), 1);
    EXPECT_EQ(c, 'D');
    ::close(fd);
}

}  // namespace
}  // namespace pf::queue
