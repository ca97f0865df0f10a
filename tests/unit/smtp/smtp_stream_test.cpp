// Unit tests of smtp/smtp_stream: bounded line reads (cut and skipped
// remainders), line-ending classification, BDAT byte counts, pending-input
// detection and the read time limit (socket limit or poll), writes that
// wait for room, over a socketpair (and a pipe).
#include "smtp/smtp_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace pf::smtp {
namespace {

class SmtpStreamTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
    void TearDown() override {
        close(fds_[0]);
        if (fds_[1] >= 0) close(fds_[1]);
    }
    void send(std::string_view text) { ASSERT_EQ(::write(fds_[1], text.data(), text.size()), static_cast<ssize_t>(text.size())); }
    void hang_up() {
        close(fds_[1]);
        fds_[1] = -1;
    }
    int fds_[2] = {-1, -1};
};

TEST_F(SmtpStreamTest, LineEndings) {
    SmtpStream s(fds_[0], 5);
    send("EHLO a\r\nNOOP\nRSET\r\r\nDATA\rX\r\n");
    auto l1 = s.read_line(2048, true);
    ASSERT_TRUE(l1);
    EXPECT_EQ(l1->text, "EHLO a");
    EXPECT_EQ(l1->end, LineEnd::kCrLf);
    auto l2 = s.read_line(2048, true);
    EXPECT_EQ(l2->text, "NOOP");
    EXPECT_EQ(l2->end, LineEnd::kBareLf);
    auto l3 = s.read_line(2048, true);
    EXPECT_EQ(l3->text, "RSET");
    EXPECT_EQ(l3->end, LineEnd::kCrLf);
    auto l4 = s.read_line(2048, true);
    EXPECT_EQ(l4->text, "DATA\rX");
    EXPECT_TRUE(l4->bare_cr);
}

TEST_F(SmtpStreamTest, LongLineSkippedOrCut) {
    SmtpStream s(fds_[0], 5);
    send(std::string(30, 'a') + "\r\nnext\r\n" + std::string(25, 'b') + "\r\n");
    auto skipped = s.read_line(10, true);
    ASSERT_TRUE(skipped);
    EXPECT_EQ(skipped->text, std::string(10, 'a'));
    EXPECT_EQ(s.read_line(10, true)->text, "next");
    auto piece = s.read_line(10, false);
    EXPECT_EQ(piece->text, std::string(10, 'b'));
    EXPECT_EQ(piece->end, LineEnd::kNone);
    EXPECT_EQ(s.read_line(10, false)->text, std::string(10, 'b'));
    auto rest = s.read_line(10, false);
    EXPECT_EQ(rest->text, std::string(5, 'b'));
    EXPECT_EQ(rest->end, LineEnd::kCrLf);
}

TEST_F(SmtpStreamTest, EofAndPartialLine) {
    SmtpStream s(fds_[0], 5);
    send("QUIT");
    hang_up();
    auto partial = s.read_line(2048, true);
    ASSERT_TRUE(partial);
    EXPECT_EQ(partial->text, "QUIT");
    EXPECT_EQ(partial->end, LineEnd::kNone);
    auto eof = s.read_line(2048, true);
    ASSERT_FALSE(eof);
    EXPECT_EQ(eof.error(), StreamError::kEof);
}

TEST_F(SmtpStreamTest, Timeout) {
    SmtpStream s(fds_[0], 1);
    auto r = s.read_line(2048, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), StreamError::kTimeout);
}

// Without a socket time limit (a non-blocking descriptor) the read polls
// for the rest of the limit instead.
TEST_F(SmtpStreamTest, NonBlockingDescriptorReadsAndTimesOut) {
    ASSERT_EQ(fcntl(fds_[0], F_SETFL, fcntl(fds_[0], F_GETFL) | O_NONBLOCK), 0);
    SmtpStream s(fds_[0], 1);
    send("EHLO x\r\n");
    auto line = s.read_line(2048, true);
    ASSERT_TRUE(line);
    EXPECT_EQ(line->text, "EHLO x");
    auto r = s.read_line(2048, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), StreamError::kTimeout);
}

// A changed limit applies to the next read; data already there is read
// at once.
TEST_F(SmtpStreamTest, ChangedTimeoutAndWaitingData) {
    SmtpStream s(fds_[0], 1);
    send("one\r\n");
    ASSERT_TRUE(s.read_line(2048, true));
    s.set_timeout(2);
    send("two\r\n");
    auto line = s.read_line(2048, true);
    ASSERT_TRUE(line);
    EXPECT_EQ(line->text, "two");
}

// Output larger than the socket buffer: written as far as it goes, then
// waited for (poll) while the peer drains it.
TEST_F(SmtpStreamTest, FlushWaitsWhileTheBufferIsFull) {
    SmtpStream s(fds_[0], 10);
    std::string big(4 << 20, 'x');
    s.write(big);
    std::size_t got = 0;
    std::thread reader([&] {
        char buf[65536];
        ssize_t n;
        while (got < big.size() && (n = ::read(fds_[1], buf, sizeof buf)) > 0) got += static_cast<std::size_t>(n);
    });
    auto r = s.flush();
    reader.join();
    EXPECT_TRUE(r);
    EXPECT_EQ(got, big.size());
}

// Not a socket (a pipe): written with write(2).
TEST(SmtpStreamPipe, FlushToAPipe) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    SmtpStream s(p[1], 5);
    s.write("220 ready\r\n");
    EXPECT_TRUE(s.flush());
    char buf[64];
    ssize_t n = ::read(p[0], buf, sizeof buf);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n > 0 ? n : 0)), "220 ready\r\n");
    close(p[0]);
    close(p[1]);
}

TEST_F(SmtpStreamTest, ExactBytesAndPending) {
    SmtpStream s(fds_[0], 5);
    send("BDAT 5\r\nab\ncdNOOP\r\n");
    EXPECT_EQ(s.read_line(2048, true)->text, "BDAT 5");
    EXPECT_TRUE(s.input_pending());
    std::string got;
    ASSERT_TRUE(s.read_exact(5, [&](std::string_view p) { got += p; }));
    EXPECT_EQ(got, "ab\ncd");
    EXPECT_EQ(s.peek_buffered(100), "NOOP\r\n");
    EXPECT_EQ(s.read_line(2048, true)->text, "NOOP");
    EXPECT_FALSE(s.input_pending());
    send("X");
    EXPECT_TRUE(s.input_pending());
    EXPECT_EQ(s.peek_buffered(100), "X");
}

TEST_F(SmtpStreamTest, WritesAreFlushedTogether) {
    SmtpStream s(fds_[0], 5);
    s.write("250-a\r\n");
    s.write("250 b\r\n");
    ASSERT_TRUE(s.flush());
    char buf[64];
    ssize_t n = ::read(fds_[1], buf, sizeof buf);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), "250-a\r\n250 b\r\n");
}

}  // namespace
}  // namespace pf::smtp
