// Unit tests of src/mailbox: lock style parsing, the errno to DSN mapping,
// mbox appends (creation mode, From_ quoting, refusal of symlinks, hard
// links, directories and FIFOs, dotlock and kernel lock conflicts, stale
// dotlocks, truncation back to the old size when a write fails, corrupt
// queue files) and Maildir writes (directories made on the fly, the
// file in new/, failure texts), and the process-wide file size limit
// (in a child process). Runs as any user in a private temporary directory.
#include "mailbox/mailbox.h"
#include "mailbox/mailbox_guards.h"
#include "queue/record.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace pf;
using namespace pf::mailbox;
namespace fs = std::filesystem;

class MailboxTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/virtual-mailbox-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        // World-writable: no "root-owned symlink in a safe directory" exception.
        ::chmod(dir_.c_str(), 0777);
        queue_ = std::tmpfile();
        for (const char* line : {"Subject: test", "", "From the body", "last"})
            queue::write_record(queue_, queue::rec::kNorm, line);
        queue::write_record(queue_, queue::rec::kExtracted, "");
        std::fflush(queue_);
    }
    void TearDown() override {
        if (queue_) std::fclose(queue_);
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    MessageSource source(unsigned flags = ipc::kCopyFrom | ipc::kCopyQuote | ipc::kCopyReturnPath |
                                          ipc::kCopyDelivered | ipc::kCopyBlank) {
        MessageSource m;
        m.queue_file = queue_;
        m.data_offset = 0;
        m.envelope.sender = "sender@example.test";
        m.envelope.delivered = "rcpt@example.test";
        m.envelope.now = 1;
        m.copy_flags = flags;
        return m;
    }
    MboxTarget target(const std::string& name) {
        MboxTarget t;
        t.path = dir_ + "/" + name;
        t.owner = {::geteuid(), ::getegid()};
        t.lock_identity = t.owner;
        t.deliver_lock_attempts = 2;
        t.deliver_lock_delay = 0;
        return t;
    }
    static std::string slurp(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::string dir_;
    std::FILE* queue_ = nullptr;
};

TEST(MailboxLockStyles, Parse) {
    EXPECT_EQ(parse_lock_styles("fcntl, dotlock", "mailbox_delivery_lock").value(), kLockFcntl | kLockDotlock);
    EXPECT_EQ(parse_lock_styles(" flock\tfcntl,dotlock ", "x").value(), kLockFlock | kLockFcntl | kLockDotlock);
    EXPECT_EQ(parse_lock_styles("", "x").value(), 0u);
    auto bad = parse_lock_styles("fcntl, FLOCK", "mailbox_delivery_lock");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "unknown mailbox_delivery_lock value \"FLOCK\" in \"fcntl, FLOCK\"");
}

TEST(MailboxDsn, ErrnoMapping) {
    EXPECT_EQ(mbox_dsn(EAGAIN, "5.2.0"), "4.2.0");
    EXPECT_EQ(mbox_dsn(ESTALE, "5.2.0"), "4.2.0");
    EXPECT_EQ(mbox_dsn(ENOSPC, "5.2.0"), "4.3.0");
    EXPECT_EQ(mbox_dsn(EFBIG, "4.2.0"), "5.2.2");
    EXPECT_EQ(mbox_dsn(EDQUOT, "4.2.0"), "5.2.2");
    EXPECT_EQ(mbox_dsn(EACCES, "4.2.0"), "4.2.0");
}

TEST_F(MailboxTest, MboxCreateAndAppend) {
    auto t = target("box");
    auto r = deliver_to_mbox(t, source());
    ASSERT_TRUE(r.delivered) << r.dsn.reason;
    struct stat st {};
    ASSERT_EQ(::stat(t.path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_FALSE(fs::exists(t.path + ".lock"));
    std::string one = slurp(t.path);
    EXPECT_TRUE(one.starts_with("From sender@example.test  ")) << one;
    EXPECT_NE(one.find("\nReturn-Path: <sender@example.test>\nDelivered-To: rcpt@example.test\nSubject: test\n\n"
                       ">From the body\nlast\n\n"),
              std::string::npos)
        << one;
    ASSERT_TRUE(deliver_to_mbox(t, source()).delivered);
    EXPECT_EQ(slurp(t.path), one + one);
}

TEST_F(MailboxTest, MboxRefusesSymlink) {
    std::string real = dir_ + "/real";
    std::ofstream(real) << "keep\n";
    ASSERT_EQ(::symlink(real.c_str(), (dir_ + "/box").c_str()), 0);
    auto r = deliver_to_mbox(target("box"), source());
    EXPECT_FALSE(r.delivered);
    EXPECT_EQ(r.failure, MailboxFailure::open);
    EXPECT_EQ(r.dsn.status, "4.2.0");
    EXPECT_EQ(r.dsn.reason, "file is a symbolic link");
    EXPECT_EQ(slurp(real), "keep\n");
    EXPECT_FALSE(fs::exists(dir_ + "/box.lock"));
}

TEST_F(MailboxTest, MboxRefusesHardLinkDirectoryFifo) {
    std::string box = dir_ + "/box";
    std::ofstream(box) << "";
    ASSERT_EQ(::link(box.c_str(), (dir_ + "/other").c_str()), 0);
    auto r = deliver_to_mbox(target("box"), source());
    EXPECT_EQ(r.dsn.reason, "file has 2 hard links");
    EXPECT_EQ(r.dsn.status, "4.2.0");
    EXPECT_EQ(slurp(box), "");

    ASSERT_EQ(::mkdir((dir_ + "/dir").c_str(), 0700), 0);
    auto d = deliver_to_mbox(target("dir"), source());
    EXPECT_EQ(d.dsn.reason, "cannot open file: Is a directory");

    ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
    auto t = target("fifo");
    t.default_status = "5.2.0";
    auto f = deliver_to_mbox(t, source());
    EXPECT_FALSE(f.delivered);
    EXPECT_EQ(f.dsn.reason, "cannot open file: No such device or address");
    EXPECT_EQ(f.dsn.status, "5.2.0");
}

TEST_F(MailboxTest, MboxNotRegularWhenFifoHasReader) {
    std::string fifo = dir_ + "/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    auto r = deliver_to_mbox(target("fifo"), source());
    EXPECT_EQ(r.failure, MailboxFailure::not_regular);
    EXPECT_EQ(r.dsn.reason, "destination " + fifo + " is not a regular file");
    char buf[16];
    EXPECT_LE(::read(reader, buf, sizeof(buf)), 0);  // nothing was written
    ::close(reader);
}

TEST_F(MailboxTest, MboxOwnerCheck) {
    auto t = target("box");
    std::ofstream(t.path) << "";
    t.owner.uid = ::geteuid() + 1;
    auto r = deliver_to_mbox(t, source());
    EXPECT_EQ(r.failure, MailboxFailure::not_owner);
    EXPECT_EQ(r.dsn.status, "4.2.0");
    EXPECT_EQ(r.dsn.reason, "destination " + t.path + " is not owned by recipient");
    t.check_owner = false;
    EXPECT_TRUE(deliver_to_mbox(t, source()).delivered);
}

TEST_F(MailboxTest, MboxDotlockHeldAndStale) {
    auto t = target("box");
    std::ofstream(t.path + ".lock") << "";
    auto r = deliver_to_mbox(t, source());
    EXPECT_FALSE(r.delivered);
    EXPECT_EQ(r.dsn.status, "4.2.0");
    EXPECT_EQ(r.dsn.reason, "unable to create lock file " + t.path + ".lock: File exists");
    EXPECT_FALSE(fs::exists(t.path));
    EXPECT_TRUE(fs::exists(t.path + ".lock"));  // not ours: left alone
    t.stale_lock_time = -1;                     // every lock counts as stale
    auto s = deliver_to_mbox(t, source());
    EXPECT_TRUE(s.delivered) << s.dsn.reason;
    EXPECT_FALSE(fs::exists(t.path + ".lock"));
}

TEST_F(MailboxTest, MboxDotlockMayFail) {
    auto t = target("sub/box");
    t.dotlock_may_fail = true;
    auto r = deliver_to_mbox(t, source());  // no such directory: the lock fails, then the open
    EXPECT_EQ(r.dsn.reason, "cannot create file exclusively: No such file or directory");
    t.dotlock_may_fail = false;
    auto s = deliver_to_mbox(t, source());
    EXPECT_EQ(s.dsn.reason, "unable to create lock file " + t.path + ".lock: No such file or directory");
    EXPECT_EQ(s.dsn.status, "4.2.0");
}

TEST_F(MailboxTest, MboxKernelLockHeld) {
    auto t = target("box");
    t.lock_styles = kLockFlock;
    int holder = ::open(t.path.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(holder, 0);
    ASSERT_EQ(::flock(holder, LOCK_EX), 0);
    auto r = deliver_to_mbox(t, source());
    EXPECT_FALSE(r.delivered);
    EXPECT_EQ(r.dsn.status, "4.2.0");
    EXPECT_EQ(r.dsn.reason, "unable to lock for exclusive access: Resource temporarily unavailable");
    ::close(holder);
    EXPECT_EQ(slurp(t.path), "");
    EXPECT_TRUE(deliver_to_mbox(t, source()).delivered);
}

TEST_F(MailboxTest, MboxTruncatesBackOnFileSizeLimit) {
    auto t = target("box");
    std::ofstream(t.path) << std::string(100, 'x') << "\n";
    t.size_limit = 150;
    auto r = deliver_to_mbox(t, source());
    EXPECT_FALSE(r.delivered);
    EXPECT_EQ(r.failure, MailboxFailure::write);
    EXPECT_EQ(r.dsn.status, "5.2.2");
    EXPECT_EQ(r.dsn.reason, "error writing message: File too large");
    EXPECT_EQ(fs::file_size(t.path), 101u);
    EXPECT_FALSE(fs::exists(t.path + ".lock"));
    t.size_limit = 0;
    EXPECT_TRUE(deliver_to_mbox(t, source()).delivered);
}

TEST_F(MailboxTest, MboxCorruptQueueFileTruncates) {
    std::FILE* bad = std::tmpfile();
    queue::write_record(bad, queue::rec::kNorm, "Subject: x");
    queue::write_record(bad, 'R', "oops");
    std::fflush(bad);
    auto m = source();
    m.queue_file = bad;
    auto t = target("box");
    std::ofstream(t.path) << "old\n";
    auto r = deliver_to_mbox(t, m);
    EXPECT_FALSE(r.delivered);
    EXPECT_EQ(r.failure, MailboxFailure::corrupt);
    EXPECT_EQ(slurp(t.path), "old\n");
    std::fclose(bad);
}

TEST_F(MailboxTest, MaildirCreatesDirectoriesAndFile) {
    MaildirTarget t;
    t.directory = dir_ + "/users/alice/Maildir/";
    t.owner = {::geteuid(), ::getegid()};
    t.hostname = "host.example";
    auto r = deliver_to_maildir(t, source(ipc::kCopyReturnPath | ipc::kCopyDelivered | ipc::kCopyOrigRcpt));
    ASSERT_TRUE(r.delivered) << r.dsn.reason;
    for (const char* sub : {"tmp", "new", "cur"}) {
        struct stat st {};
        ASSERT_EQ(::stat((t.directory + sub).c_str(), &st), 0) << sub;
        EXPECT_EQ(st.st_mode & 07777, 0700u);
    }
    EXPECT_TRUE(fs::is_empty(t.directory + "tmp"));
    std::vector<fs::path> files(fs::directory_iterator(t.directory + "new"), fs::directory_iterator());
    ASSERT_EQ(files.size(), 1u);
    std::string name = files[0].filename();
    EXPECT_NE(name.find(".V"), std::string::npos);
    EXPECT_TRUE(name.ends_with(".host.example")) << name;
    EXPECT_EQ(slurp(files[0]),
              "Return-Path: <sender@example.test>\nDelivered-To: rcpt@example.test\nSubject: test\n\n"
              "From the body\nlast\n");
    struct stat st {};
    ASSERT_EQ(::stat(files[0].c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// virtual(8) sets virtual_mailbox_limit once for the process and passes
// size_limit 0: the Maildir write then fails as with a per-call limit.
TEST_F(MailboxTest, ProcessFileSizeLimitBoundsMaildirWrites) {
    MaildirTarget t;
    t.directory = dir_ + "/limited/";
    t.owner = {::geteuid(), ::getegid()};
    t.hostname = "h";
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        int code = 0;
        if (!set_file_size_limit(40)) code |= 1;
        struct rlimit lim {};
        if (::getrlimit(RLIMIT_FSIZE, &lim) < 0 || lim.rlim_cur != 40) code |= 2;
        auto r = deliver_to_maildir(t, source(ipc::kCopyReturnPath));
        if (r.delivered || r.dsn.status != "5.2.2" || r.dsn.reason != "error writing message: File too large")
            code |= 4;
        if (!set_file_size_limit(0)) code |= 8;  // 0: no limit asked, nothing changed
        ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(fs::is_empty(t.directory + "tmp"));
    EXPECT_FALSE(fs::exists(t.directory + "new"));  // made only when a link into it fails
}

TEST_F(MailboxTest, MaildirFailures) {
    MaildirTarget t;
    t.directory = dir_ + "/md/";
    t.hostname = "h";
    ASSERT_EQ(::mkdir(t.directory.c_str(), 0700), 0);
    std::ofstream(t.directory + "tmp") << "";  // tmp is a file
    auto r = deliver_to_maildir(t, source(0));
    EXPECT_FALSE(r.delivered);
    EXPECT_EQ(r.dsn.status, "4.2.0");
    EXPECT_TRUE(r.dsn.reason.starts_with("create maildir file " + t.directory + "tmp/")) << r.dsn.reason;
    EXPECT_TRUE(r.dsn.reason.ends_with(".h: Not a directory")) << r.dsn.reason;

    fs::remove(t.directory + "tmp");
    std::ofstream(t.directory + "new") << "";  // new is a file
    auto n = deliver_to_maildir(t, source(0));
    EXPECT_FALSE(n.delivered);
    EXPECT_TRUE(n.dsn.reason.starts_with("create maildir file " + t.directory + "new/")) << n.dsn.reason;
    EXPECT_TRUE(fs::is_empty(t.directory + "tmp"));  // the tmp file is gone again
}

}  // namespace
