// maillog_file must start with one of maillog_file_prefixes
// (ipc/maillog_client.h): the prefix list's separators, and the fatal error
// of maillog_client_init for a file outside it, which every program that
// logs reports and stops on (the reference's maillog_client_init), before
// any line could go to a postlogd that will never run.
#include "ipc/maillog_client.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace pf::ipc {
namespace {

TEST(MaillogPrefixTest, PrefixList) {
    EXPECT_TRUE(maillog_file_allowed("/var/log/postfix.log", "/var, /dev/stdout"));
    EXPECT_TRUE(maillog_file_allowed("/dev/stdout", "/var, /dev/stdout"));
    EXPECT_FALSE(maillog_file_allowed("/tmp/log", "/var, /dev/stdout"));
    // A plain string prefix, not a directory: /variable starts with /var.
    EXPECT_TRUE(maillog_file_allowed("/variable/log", "/var"));
    // Commas, blanks, tabs and line breaks separate; empty items match nothing.
    EXPECT_TRUE(maillog_file_allowed("/tmp/x", ",, /var\t\n/tmp ,"));
    EXPECT_FALSE(maillog_file_allowed("/tmp/x", ""));
    EXPECT_FALSE(maillog_file_allowed("/tmp/x", " , ,"));
    EXPECT_FALSE(maillog_file_allowed("/tm", "/tmp"));
}

// Runs maillog_client_init in a child with the given settings; its exit
// status (0: it went on) and what it wrote on stderr.
std::pair<int, std::string> init_in_child(const std::string& file, const std::string& prefixes) {
    int err[2];
    if (::pipe(err) < 0) return {-1, ""};
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(err[1], 2);
        util::msg_set_fatal_sleep(false);
        util::msg_set_stderr(true);
        util::msg_set_program("unit");
        config::Config cfg("/nonexistent-pf-config");
        cfg.set_override("queue_directory", "/nonexistent-pf-queue");
        cfg.set_override("maillog_file", file);
        cfg.set_override("maillog_file_prefixes", prefixes);
        maillog_client_init(cfg, "postfix/unit");
        ::_exit(0);
    }
    ::close(err[1]);
    std::string text;
    char buf[512];
    for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(err[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, text};
}

TEST(MaillogPrefixTest, FileOutsideThePrefixesIsFatal) {
    auto [status, text] = init_in_child("/var/tmp/x.log", "/tmp");
    EXPECT_EQ(status, 1);
    EXPECT_NE(text.find("fatal: maillog_file value '/var/tmp/x.log' does not match any prefix in "
                        "maillog_file_prefixes"),
              std::string::npos)
        << text;
}

TEST(MaillogPrefixTest, FileInsideThePrefixesOrNoFileGoesOn) {
    EXPECT_EQ(init_in_child("/tmp/x.log", "/var, /tmp").first, 0);
    EXPECT_EQ(init_in_child("", "/var").first, 0);
}

}  // namespace
}  // namespace pf::ipc
