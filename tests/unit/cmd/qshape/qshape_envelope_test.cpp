// qshape's reading of queue files: which files count, the time, sender
// and recipients taken from them, as the reference's script reads them;
// and that a pointer loop (on which the reference never ends) is given up.
#include "cmd/qshape/qshape_envelope.h"

#include "queue/record.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fmt/core.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::qshape {
namespace {

using pf::queue::encode_record;

class QshapeEnvelope : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/qshape-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        for (const auto& p : files_) ::unlink(p.c_str());
        ::rmdir(dir_.c_str());
    }
    std::string write(const std::string& data, mode_t mode = 0700, const std::string& name = "ABCDEF0123") {
        const std::string path = dir_ + "/" + name;
        std::FILE* f = std::fopen(path.c_str(), "wb");
        std::fwrite(data.data(), 1, data.size(), f);
        std::fclose(f);
        ::chmod(path.c_str(), mode);
        files_.push_back(path);
        return path;
    }
    // A file as cleanup writes it, with the size record right.
    static std::string cleanup_file(const std::string& middle, const std::string& content,
                                    const std::string& extracted = "") {
        const std::string env = encode_record('T', "1700000000 5") + middle + encode_record('M', "");
        const std::string probe = encode_record('C', fmt::format("{:15} {:15} {:15} {:15} {:15} {:15}", 0, 0, 0, 0, 0, 0));
        const std::size_t offset = probe.size() + env.size();
        return encode_record('C', fmt::format("{:15} {:15} {:15} {:15} {:15} {:15}", content.size(), offset, 1, 0,
                                              content.size(), 0)) +
               env + content + encode_record('X', "") + extracted + encode_record('E', "");
    }
    std::string dir_;
    std::vector<std::string> files_;
};

TEST_F(QshapeEnvelope, QueueFileNames) {
    EXPECT_TRUE(looks_like_queue_file("ABCDEF"));
    EXPECT_TRUE(looks_like_queue_file("4Xy7Kz1abcdeFGH"));
    EXPECT_TRUE(looks_like_queue_file("x-y/ABCDEF"));
    EXPECT_FALSE(looks_like_queue_file("ABCDE"));
    EXPECT_FALSE(looks_like_queue_file("ABC-DEF"));
    EXPECT_FALSE(looks_like_queue_file("x-ABCDEF"));
}

TEST_F(QshapeEnvelope, CleanupFileCountsRecipientsLeft) {
    const std::string content = encode_record('N', "Subject: x") + encode_record('N', "") + encode_record('N', "R-looking body");
    const std::string path = write(cleanup_file(encode_record('S', "a@example.com") + encode_record('R', "b@example.net") +
                                                    encode_record('D', "done@example.net"),
                                                content, encode_record('R', "late@example.org")));
    const Envelope env = read_envelope(path);
    ASSERT_EQ(env.kind, Envelope::Kind::found);
    EXPECT_EQ(env.time, "1700000000");
    EXPECT_EQ(env.sender, "a@example.com");
    EXPECT_EQ(env.recipients, (std::vector<std::string>{"b@example.net", "late@example.org"}));
}

TEST_F(QshapeEnvelope, FilesThatDoNotCount) {
    const std::string good = cleanup_file(encode_record('S', "a@x") + encode_record('R', "b@y"), encode_record('N', "x"));
    EXPECT_EQ(read_envelope(write(good, 0600)).kind, Envelope::Kind::none);  // still being written
    EXPECT_EQ(read_envelope(write(good, 0744)).kind, Envelope::Kind::found);
    EXPECT_EQ(read_envelope(write(good, 0710)).kind, Envelope::Kind::none);
    EXPECT_EQ(read_envelope(write(good.substr(0, good.size() - 2))).kind, Envelope::Kind::none);  // no E
    const std::string no_rcpt = cleanup_file(encode_record('S', "a@x") + encode_record('D', "b@y"), encode_record('N', "x"));
    EXPECT_EQ(read_envelope(write(no_rcpt)).kind, Envelope::Kind::none);
    EXPECT_EQ(read_envelope(dir_ + "/missing").kind, Envelope::Kind::none);
}

TEST_F(QshapeEnvelope, UnexpectedFirstRecordIsUndefined) {
    // postdrop's files start with T: the reference has no time or sender.
    EXPECT_EQ(read_envelope(write(encode_record('T', "1 2") + encode_record('S', "a@x"))).kind,
              Envelope::Kind::undefined);
    testing::internal::CaptureStderr();
    EXPECT_EQ(read_envelope(write("")).kind, Envelope::Kind::undefined);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("Use of uninitialized value $r in string eq at"), std::string::npos) << err;
}

TEST_F(QshapeEnvelope, SenderFirstUsesTheModificationTime) {
    const std::string path = write(encode_record('F', "Name") + encode_record('S', "a@x") + encode_record('R', "b@y") +
                                   encode_record('M', "") + encode_record('N', "hi") + encode_record('X', "") +
                                   encode_record('E', ""));
    struct timespec times[2] = {{1234567890, 0}, {1234567890, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
    const Envelope env = read_envelope(path);
    ASSERT_EQ(env.kind, Envelope::Kind::found);
    EXPECT_EQ(env.time, "1234567890");
}

TEST_F(QshapeEnvelope, PointerLoopIsGivenUp) {
    // S, R, then a pointer back to the R record: endless to the reference.
    std::string data = encode_record('S', "a@x");
    const std::size_t r_offset = data.size();
    data += encode_record('R', "b@y");
    data += encode_record('p', fmt::format("{:15}", r_offset));
    const Envelope env = read_envelope(write(data));
    EXPECT_EQ(env.kind, Envelope::Kind::none);
}

}  // namespace
}  // namespace pf::qshape
