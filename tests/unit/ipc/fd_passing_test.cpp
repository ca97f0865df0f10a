// Unit tests of descriptor passing (ipc/fd_passing.h) over socket pairs.
#include "ipc/fd_passing.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace pf::ipc {
namespace {

struct Pair {
    UniqueFd a, b;
    Pair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) {
            a.reset(fds[0]);
            b.reset(fds[1]);
        }
    }
};

TEST(FdPassing, PassedDescriptorReachesTheSameFile) {
    Pair sock;
    ASSERT_TRUE(sock.a.valid());
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    UniqueFd read_end(p[0]), write_end(p[1]);
    ASSERT_TRUE(send_fd(sock.a.get(), write_end.get(), 5).has_value());
    write_end.reset();  // the receiver's copy keeps the pipe open
    auto got = receive_fd(sock.b.get(), 5);
    ASSERT_TRUE(got.has_value()) << got.error();
    ASSERT_TRUE(got->valid());
    ASSERT_EQ(::write(got->get(), "hello", 5), 5);
    got->reset();
    char buf[16] = {};
    EXPECT_EQ(::read(read_end.get(), buf, sizeof buf), 5);
    EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST(FdPassing, EndOfFileIsAnError) {
    Pair sock;
    sock.a.reset();
    auto got = receive_fd(sock.b.get(), 5);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error(), "end of file");
}

TEST(FdPassing, PlainByteWithoutDescriptorIsAnError) {
    Pair sock;
    ASSERT_EQ(::write(sock.a.get(), "x", 1), 1);
    auto got = receive_fd(sock.b.get(), 5);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error(), "no file descriptor received");
}

TEST(FdPassing, ReceiveTimesOut) {
    Pair sock;
    auto got = receive_fd(sock.b.get(), 1);
    ASSERT_FALSE(got.has_value());
}

TEST(FdPassing, UniqueFdOwnsAndReleases) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    UniqueFd a(p[0]);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(b.get(), p[0]);
    int raw = b.release();
    EXPECT_FALSE(b.valid());
    ::close(raw);
    ::close(p[1]);
}

}  // namespace
}  // namespace pf::ipc
