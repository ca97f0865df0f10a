// postlock(1)'s open-and-lock of a mailbox: the file is created 0600, the
// dotlock exists while held and is gone after release, a busy lock (dotlock,
// flock, fcntl from another process) is refused with the reference's
// texts, and files safe_open refuses stay refused.
#include "cmd/postlock/postlock_mbox.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace pf::postlock {
namespace {

class PostlockMboxTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/postlock-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/mbox";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

    std::string dir_;
    std::string path_;
    mailbox::LockRetry once_{1, 0, 500};
};

TEST_F(PostlockMboxTest, CreatesFileAndRemovesDotlock) {
    ::umask(022);
    {
        auto hold = open_and_lock(path_, mailbox::kLockFcntl | mailbox::kLockDotlock, once_);
        ASSERT_TRUE(hold.has_value()) << hold.error();
        EXPECT_TRUE(hold->dot_locked());
        EXPECT_TRUE(exists(path_ + ".lock"));
        struct stat st {};
        ASSERT_EQ(::stat(path_.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0600u);
        EXPECT_EQ(::fcntl(hold->fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    }
    EXPECT_TRUE(exists(path_));
    EXPECT_FALSE(exists(path_ + ".lock"));
}

TEST_F(PostlockMboxTest, NoStylesNoLocks) {
    auto hold = open_and_lock(path_, 0, once_);
    ASSERT_TRUE(hold.has_value());
    EXPECT_FALSE(hold->dot_locked());
    EXPECT_FALSE(exists(path_ + ".lock"));
}

TEST_F(PostlockMboxTest, BusyDotlock) {
    int fd = ::open((path_ + ".lock").c_str(), O_CREAT | O_WRONLY, 0);
    ASSERT_GE(fd, 0);
    ::close(fd);
    auto hold = open_and_lock(path_, mailbox::kLockDotlock, once_);
    ASSERT_FALSE(hold.has_value());
    EXPECT_EQ(hold.error(), "unable to create lock file " + path_ + ".lock: File exists");
    EXPECT_TRUE(exists(path_ + ".lock"));  // someone else's: left alone
}

TEST_F(PostlockMboxTest, BusyFlockReleasesDotlock) {
    auto first = open_and_lock(path_, mailbox::kLockFlock, once_);
    ASSERT_TRUE(first.has_value());
    auto second = open_and_lock(path_, mailbox::kLockFlock | mailbox::kLockDotlock, once_);
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error(), "unable to lock for exclusive access: Resource temporarily unavailable");
    EXPECT_FALSE(exists(path_ + ".lock"));
}

TEST_F(PostlockMboxTest, BusyFcntlInAnotherProcess) {
    auto hold = open_and_lock(path_, mailbox::kLockFcntl, once_);
    ASSERT_TRUE(hold.has_value());
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        auto other = open_and_lock(path_, mailbox::kLockFcntl, once_);
        ::_exit(!other.has_value() &&
                        other.error() == "unable to lock for exclusive access: Resource temporarily unavailable"
                    ? 0
                    : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(PostlockMboxTest, RefusesDirectoryAndHardLinks) {
    std::string box = dir_ + "/box";
    ASSERT_EQ(::mkdir(box.c_str(), 0700), 0);
    auto d = open_and_lock(box, mailbox::kLockFcntl | mailbox::kLockDotlock, once_);
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.error(), "cannot open file: Is a directory");
    EXPECT_FALSE(exists(box + ".lock"));

    int fd = ::open(path_.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
    ASSERT_EQ(::link(path_.c_str(), (dir_ + "/other").c_str()), 0);
    auto h = open_and_lock(path_, mailbox::kLockDotlock, once_);
    ASSERT_FALSE(h.has_value());
    EXPECT_FALSE(exists(path_ + ".lock"));
}

TEST_F(PostlockMboxTest, MissingDirectory) {
    auto h = open_and_lock(dir_ + "/no/such", mailbox::kLockDotlock, once_);
    ASSERT_FALSE(h.has_value());
    EXPECT_EQ(h.error(), "unable to create lock file " + dir_ + "/no/such.lock: No such file or directory");
    h = open_and_lock(dir_ + "/no/such", mailbox::kLockFcntl, once_);
    ASSERT_FALSE(h.has_value());
    EXPECT_EQ(h.error(), "cannot create file exclusively: No such file or directory");
}

}  // namespace
}  // namespace pf::postlock
