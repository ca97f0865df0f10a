// Unit tests of smtp/smtp_stream: bounded line reads (cut and skipped
// remainders), line-ending classification, BDAT byte counts, pending-input
// detection and the read time limit (socket limit or poll), writes that
// wait for room, over a socketpair (and a pipe).
#include "smtp/smtp_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
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

// The byte-at-a-time reading the stream did before it took whole pieces
// up to the next LF: the model the stream must still agree with.
struct ModelReader {
    std::string in;
    std::size_t pos = 0;
    // nullopt at the end of input (the stream's kEof).
    std::optional<Line> read_line(std::size_t limit, bool skip_rest) {
        Line line;
        bool got_any = false;
        bool cut = false;
        while (pos < in.size()) {
            char c = in[pos++];
            if (c == '\n') {
                if (cut) {
                    line.end = LineEnd::kCrLf;
                } else {
                    line.end = LineEnd::kBareLf;
                    if (!line.text.empty() && line.text.back() == '\r') line.end = LineEnd::kCrLf;
                    while (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
                }
                line.bare_cr = line.text.find('\r') != std::string::npos;
                return line;
            }
            got_any = true;
            if (cut) continue;
            line.text.push_back(c);
            if (limit != 0 && line.text.size() >= limit) {
                if (!skip_rest) {
                    line.end = LineEnd::kNone;
                    line.bare_cr = line.text.find('\r') != std::string::npos;
                    return line;
                }
                cut = true;
            }
        }
        if (got_any && !cut) {
            line.end = LineEnd::kNone;
            return line;
        }
        return std::nullopt;
    }
};

// Random text of CR, LF and letters, sent in random pieces, read with
// random limits: every line as the model reads it.
TEST_F(SmtpStreamTest, PiecesAgreeWithTheByteModel) {
    unsigned seed = 12345;
    auto next = [&seed](unsigned n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 16) % n;
    };
    for (int round = 0; round < 200; ++round) {
        int fds[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        std::string text;
        std::size_t size = next(300);
        for (std::size_t i = 0; i < size; ++i) {
            unsigned r = next(10);
            text.push_back(r == 0 ? '\n' : r == 1 ? '\r' : static_cast<char>('a' + next(3)));
        }
        for (std::size_t off = 0; off < text.size();) {
            std::size_t piece = std::min<std::size_t>(1 + next(40), text.size() - off);
            ASSERT_EQ(::write(fds[1], text.data() + off, piece), static_cast<ssize_t>(piece));
            off += piece;
        }
        ::close(fds[1]);
        SmtpStream s(fds[0], 5);
        ModelReader model{text};
        for (int n = 0; n < 400; ++n) {
            std::size_t limit = next(4) == 0 ? 0 : 1 + next(12);
            bool skip = next(2) == 0;
            auto want = model.read_line(limit, skip);
            auto got = s.read_line(limit, skip);
            if (!want) {
                EXPECT_FALSE(got) << "round " << round;
                break;
            }
            ASSERT_TRUE(got) << "round " << round;
            EXPECT_EQ(got->text, want->text) << "round " << round;
            EXPECT_EQ(got->end, want->end) << "round " << round;
            EXPECT_EQ(got->bare_cr, want->bare_cr) << "round " << round;
        }
        ::close(fds[0]);
    }
}

}  // namespace
}  // namespace pf::smtp
