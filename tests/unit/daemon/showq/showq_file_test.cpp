// showq's in-memory queue file reader against the queue library's stdio
// RecordReader: the same records, types and warnings for ordinary files,
// files larger than the first read, pointer records (forward, backward,
// beyond the end), padding, a skip over the content, and damaged files.
#include "daemon/showq/showq_file.h"

#include "queue/queue_file_reader.h"
#include "queue/record.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using pf::queue::encode_record;

struct Read {
    std::vector<std::pair<int, std::string>> records;
    std::vector<std::string> warnings;
};

// Reads the whole file both ways; skip_after_m: after an 'M' record, move
// on by that many bytes (showq's skip over the message content).
std::pair<Read, Read> read_both(const std::string& bytes, long skip_after_m = -1) {
    char path[] = "/tmp/showq-file-unit-XXXXXX";
    int fd = ::mkstemp(path);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    Read mine, theirs;
    std::vector<std::string>* warnings = nullptr;
    pf::util::msg_set_sink([&warnings](pf::util::MsgLevel, std::string_view t) { warnings->emplace_back(t); });
    {
        warnings = &mine.warnings;
        pf::showq::QueueFileImage image(fd, static_cast<off_t>(bytes.size()), path);
        std::string data;
        for (int type; (type = image.get(data)) > 0;) {
            mine.records.emplace_back(type, data);
            if (type == 'M' && skip_after_m >= 0) {
                EXPECT_TRUE(image.skip(skip_after_m));
            }
        }
    }
    {
        warnings = &theirs.warnings;
        std::FILE* in = std::fopen(path, "r");
        pf::queue::RecordReader reader(in, path);
        std::string data;
        for (int type; (type = reader.get(data)) > 0;) {
            theirs.records.emplace_back(type, data);
            if (type == 'M' && skip_after_m >= 0) {
                EXPECT_EQ(std::fseek(in, skip_after_m, SEEK_CUR), 0);
            }
        }
        std::fclose(in);
    }
    pf::util::msg_set_sink({});
    ::close(fd);
    ::unlink(path);
    return {mine, theirs};
}

void expect_same(const std::string& bytes, long skip_after_m = -1) {
    auto [mine, theirs] = read_both(bytes, skip_after_m);
    EXPECT_EQ(mine.records, theirs.records);
    EXPECT_EQ(mine.warnings, theirs.warnings);
}

std::string pointer(long offset) { return encode_record('p', pf::queue::format_pointer(offset)); }

TEST(ShowqFileTest, OrdinaryFileAndContentSkip) {
    std::string content = encode_record('N', "Subject: hi") + encode_record('N', "") + encode_record('N', "body");
    std::string file = encode_record('T', "1700000000 0") + encode_record('S', "s@x") + encode_record('R', "r@x") +
                       encode_record('M', "") + content + encode_record('X', "") + encode_record('R', "late@x") +
                       encode_record('E', "") + "trailing bytes after the end";
    expect_same(file);
    expect_same(file, static_cast<long>(content.size()));
    expect_same(file, 1000000);  // beyond the end: the next read finds it
}

TEST(ShowqFileTest, LargerThanTheFirstRead) {
    std::string file = encode_record('S', "s@x");
    std::string big(200000, 'x');
    for (int i = 0; i < 12; ++i) file += encode_record('N', big);  // 2.4 MB
    file += encode_record('R', "r@x") + encode_record('E', "");
    expect_same(file);
    std::string skipped = encode_record('S', "s@x") + encode_record('M', "");
    long content = 0;
    for (int i = 0; i < 12; ++i) {
        std::string r = encode_record('N', big);
        content += static_cast<long>(r.size());
        skipped += r;
    }
    skipped += encode_record('X', "") + encode_record('R', "r@x") + encode_record('E', "");
    expect_same(skipped, content);
}

TEST(ShowqFileTest, PointersAndPadding) {
    // S, a pointer over padding to R, a pointer back (a loop cut off after
    // too many reverse jumps), and pointers beyond the end.
    std::string head = encode_record('S', "s@x");
    long target = static_cast<long>(head.size() + pointer(0).size() + encode_record('w', "zzzz").size());
    std::string file = head + pointer(target) + encode_record('w', "zzzz");
    ASSERT_EQ(static_cast<long>(file.size()), target);
    file += encode_record('R', "r@x") + encode_record('E', "");
    expect_same(file);
    std::string loop = head + pointer(static_cast<long>(head.size()));
    expect_same(loop);
    expect_same(head + pointer(5000000) + encode_record('R', "never@x"));
    expect_same(head + encode_record('p', "12x"));
}

TEST(ShowqFileTest, DamagedFiles) {
    std::string file = encode_record('S', "s@x") + encode_record('R', "recipient@example.org");
    for (std::size_t cut = 0; cut <= file.size(); ++cut) expect_same(file.substr(0, cut));
    expect_same(std::string("S\xff\xff\xff\xff\x7f", 6));  // too many length bits
    expect_same(std::string("S\xff\xff\xff\xff\x0f", 6));  // a negative length
}

// Lengths of every size the fast path takes (one to four bytes) and those
// it leaves to the byte-by-byte path (five bytes, redundant continuation
// groups), records ending exactly at the end of the file, and a record
// whose data runs past the end.
TEST(ShowqFileTest, LengthEncodings) {
    std::string file = encode_record('S', "s@x") + encode_record('N', std::string(200, 'a')) +
                       encode_record('N', std::string(20000, 'b')) + encode_record('N', std::string(3000000, 'c'));
    expect_same(file);
    expect_same(file + encode_record('E', ""));
    expect_same(std::string("N\x83\x80\x00" "abc", 7));          // three bytes for 3
    expect_same(std::string("N\x83\x80\x80\x00" "abc", 8));      // four bytes for 3
    expect_same(std::string("N\x83\x80\x80\x80\x00" "abc", 9));  // five bytes for 3
    expect_same(std::string("N\x05" "abc", 5));                   // data cut short
    expect_same(std::string("N\x00", 2) + encode_record('E', ""));
}

}  // namespace
