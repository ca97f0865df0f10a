// local(8): $name expansion of forward_path and friends, the command exit
// mapping, the mailbox status mapping, how alias values are tokenized,
// how a command is split or given to a shell, the comsat datagram, and
// real command deliveries (as the current user). Expected values
// are what the reference's local(8) logged for the same input in the
// compat-suite delivery area (cases local-* and notice-*).
#include "local/local.h"
#include "local/local_biff.h"
#include "local/local_command_run.h"

#include "mail/address_list.h"
#include "mail/address_token.h"
#include "queue/record.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace pf::local {
namespace {

MsgAttr recipient(std::string local, std::string user, std::optional<std::string> ext) {
    MsgAttr a;
    a.rcpt.address = local + "@mx.example.test";
    a.local = std::move(local);
    a.user = std::move(user);
    a.domain = "mx.example.test";
    a.extension = std::move(ext);
    return a;
}

UserAttr home(std::string dir) {
    UserAttr u;
    u.home = std::move(dir);
    u.shell = "/bin/sh";
    return u;
}

TEST(LocalExpand, DefaultForwardPathWithoutExtension) {
    MsgAttr a = recipient("pfu1", "pfu1", std::nullopt);
    UserAttr u = home("/home/pfu1");
    auto first = local_expand("$home/.forward${recipient_delimiter}${extension}", a, u, "");
    EXPECT_TRUE(first.status & kExpandUndefined);
    auto second = local_expand("$home/.forward", a, u, "");
    EXPECT_EQ(second.status, 0u);
    EXPECT_EQ(second.text, "/home/pfu1/.forward");
}

TEST(LocalExpand, DefaultForwardPathWithExtension) {
    MsgAttr a = recipient("pfu1+foo", "pfu1", "foo");
    UserAttr u = home("/home/pfu1");
    auto r = local_expand("$home/.forward${recipient_delimiter}${extension}", a, u, "");
    EXPECT_EQ(r.status & kExpandUndefined, 0u);
    EXPECT_TRUE(r.status & kExpandExtensionMatched);
    EXPECT_EQ(r.text, "/home/pfu1/.forward+foo");
}

TEST(LocalExpand, ConditionalFormsAndFilter) {
    MsgAttr a = recipient("pfu1+a;b", "pfu1", "a;b");
    UserAttr u = home("/h");
    auto r = local_expand("${extension?x-$extension}${shell:none}/$recipient", a, u,
                          "abcdefghijklmnopqrstuvwxyz0123456789+-@./");
    EXPECT_EQ(r.text, "x-a_b/pfu1+a_b@mx.example.test");
    auto plain = recipient("pfu2", "pfu2", std::nullopt);
    UserAttr nohome;
    auto r2 = local_expand("${extension?yes}${extension:no}", plain, nohome, "");
    EXPECT_EQ(r2.text, "no");
    EXPECT_EQ(r2.status & kExpandUndefined, 0u);
}

TEST(LocalCommand, ExitCodesMapAsSysexits) {
    CommandExit run;
    run.exited = true;
    run.exit_status = 67;
    auto r = map_local_command(run, "/bin/sh -c 'exit 67'");
    EXPECT_EQ(r.verdict, CommandVerdict::bounce);
    EXPECT_EQ(r.dsn.status, "5.1.1");
    EXPECT_EQ(r.dsn.reason, "user unknown");
    run.exit_status = 75;
    r = map_local_command(run, "x");
    EXPECT_EQ(r.verdict, CommandVerdict::defer);
    EXPECT_EQ(r.dsn.status, "4.3.0");
    EXPECT_EQ(r.dsn.reason, "temporary failure");
    run.exit_status = 1;
    r = map_local_command(run, "false");
    EXPECT_EQ(r.verdict, CommandVerdict::bounce);
    EXPECT_EQ(r.dsn.status, "5.3.0");
    EXPECT_EQ(r.dsn.reason, "Command died with status 1: \"false\"");
}

TEST(LocalCommand, OutputCarriesStatusAndText) {
    CommandExit run;
    run.exited = true;
    run.exit_status = 1;
    run.output = "5.7.1 go away\n";
    auto r = map_local_command(run, "cmd");
    EXPECT_EQ(r.verdict, CommandVerdict::bounce);
    EXPECT_EQ(r.dsn.status, "5.7.1");
    EXPECT_EQ(r.dsn.reason, "go away ");
    run.output = "something\tbroke\n";
    r = map_local_command(run, "cmd");
    EXPECT_EQ(r.dsn.reason, "Command died with status 1: \"cmd\". Command output: something broke ");
    CommandExit timed;
    timed.timed_out = true;
    r = map_local_command(timed, "/bin/sleep 5");
    EXPECT_EQ(r.verdict, CommandVerdict::bounce);
    EXPECT_EQ(r.dsn.reason, "Command time limit exceeded: \"/bin/sleep 5\"");
    CommandExit killed;
    killed.signaled = true;
    killed.signal = 9;
    r = map_local_command(killed, "k");
    EXPECT_EQ(r.verdict, CommandVerdict::defer);
    EXPECT_EQ(r.dsn.reason, "Command died with signal 9: \"k\"");
}

TEST(LocalMailbox, MaildirStatusOfLibraryFailures) {
    mailbox::MailboxResult r;
    r.failure = mailbox::MailboxFailure::open;
    r.error_number = EACCES;
    r.dsn = ipc::Dsn::simple("4.2.0", "create maildir file /x/tmp/y: Permission denied");
    EXPECT_EQ(local_maildir_status(r).status, "5.2.0");
    r.error_number = EAGAIN;
    EXPECT_EQ(local_maildir_status(r).status, "4.2.0");
    r.error_number = EDQUOT;
    EXPECT_EQ(local_maildir_status(r).status, "5.2.2");
    r.failure = mailbox::MailboxFailure::write;
    r.error_number = EIO;
    r.dsn = ipc::Dsn::simple("5.3.0", "error writing message: Input/output error");
    EXPECT_EQ(local_maildir_status(r).status, "5.3.0");
}

// How an alias value splits into destinations (the reference's tok822).
TEST(LocalTokens, AliasValueDestinations) {
    auto tree = mail::parse_822_list("\"|/bin/cat > /tmp/x\", :include:/etc/list, /var/log/f, pfu1, \\pfu2");
    std::vector<std::string> got;
    for (const auto& t : tree)
        if (t.kind == mail::TokenKind::address) got.push_back(mail::internalize_822(t.children));
    // The backslash of "\\user" quotes the next byte for the tokenizer, as
    // in the reference; the user is then reached through the alias
    // self-reference rule.
    std::vector<std::string> want{"|/bin/cat > /tmp/x", ":include:/etc/list", "/var/log/f", "pfu1", "pfu2"};
    EXPECT_EQ(got, want);
}

TEST(LocalCommand, RunsWithEnvironmentAndMessage) {
    char dir_template[] = "/tmp/local-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    std::string dir = dir_template;
    std::FILE* qf = std::tmpfile();
    ASSERT_NE(qf, nullptr);
    queue::write_record(qf, queue::rec::kNorm, "Subject: hi");
    queue::write_record(qf, queue::rec::kNorm, "");
    queue::write_record(qf, queue::rec::kNorm, "body");
    queue::write_record(qf, queue::rec::kExtracted, "");
    std::fflush(qf);

    CommandJob job;
    job.command = "/usr/bin/env > " + dir + "/env; /bin/cat > " + dir + "/msg";
    job.uid = ::getuid();
    job.gid = ::getgid();
    job.env = {{"HOME", dir}, {"LOCAL", "pfu1"}};
    job.time_limit = 10;
    ipc::CopyEnvelope env;
    env.sender = "s@example.net";
    env.delivered = "pfu1@mx.example.test";
    CommandResult r = run_local_command(job, qf, 0, env, ipc::kCopyReturnPath | ipc::kCopyDelivered);
    std::fclose(qf);
    EXPECT_EQ(r.verdict, CommandVerdict::ok) << r.dsn.reason;
    std::stringstream e, m;
    e << std::ifstream(dir + "/env").rdbuf();
    m << std::ifstream(dir + "/msg").rdbuf();
    EXPECT_NE(e.str().find("PATH=/usr/bin:/bin\n"), std::string::npos);
    EXPECT_NE(e.str().find("LOCAL=pfu1\n"), std::string::npos);
    EXPECT_EQ(m.str(), "Return-Path: <s@example.net>\nDelivered-To: pfu1@mx.example.test\nSubject: hi\n\nbody\n");
    std::remove((dir + "/env").c_str());
    std::remove((dir + "/msg").c_str());
    ::rmdir(dir.c_str());
}

TEST(LocalCommand, TimeLimitKillsTheCommand) {
    std::FILE* qf = std::tmpfile();
    ASSERT_NE(qf, nullptr);
    queue::write_record(qf, queue::rec::kNorm, "x");
    queue::write_record(qf, queue::rec::kExtracted, "");
    std::fflush(qf);
    CommandJob job;
    job.command = "/bin/sleep 30";
    job.uid = ::getuid();
    job.gid = ::getgid();
    job.time_limit = 1;
    CommandResult r = run_local_command(job, qf, 0, ipc::CopyEnvelope{}, 0);
    std::fclose(qf);
    EXPECT_EQ(r.verdict, CommandVerdict::bounce);
    EXPECT_EQ(r.dsn.reason, "Command time limit exceeded: \"/bin/sleep 30\"");
}

TEST(LocalCommand, ArgvShellOrSplit) {
    CommandJob job;
    job.command = "/usr/bin/procmail -a  $EXTENSION";
    EXPECT_EQ(local_command_argv(job), (std::vector<std::string>{"/bin/sh", "-c", job.command}));
    job.command = "  /usr/bin/procmail  -t -a x ";
    EXPECT_EQ(local_command_argv(job), (std::vector<std::string>{"/usr/bin/procmail", "-t", "-a", "x"}));
    job.shell = "/bin/bash  -e -c";
    EXPECT_EQ(local_command_argv(job), (std::vector<std::string>{"/bin/bash", "-e", "-c", job.command}));
}

// A command that cannot be executed says so on its output without the
// "pipe_command: " of pipe(8) (the reference's local runs it through
// exec_command); the exit is EX_TEMPFAIL, a deferral with that output.
TEST(LocalCommand, ExecFailureText) {
    std::FILE* qf = std::tmpfile();
    ASSERT_NE(qf, nullptr);
    queue::write_record(qf, queue::rec::kNorm, "x");
    queue::write_record(qf, queue::rec::kExtracted, "");
    std::fflush(qf);
    CommandJob job;
    job.command = "/nonexistent/cmd arg";
    job.uid = ::getuid();
    job.gid = ::getgid();
    job.time_limit = 10;
    CommandResult r = run_local_command(job, qf, 0, ipc::CopyEnvelope{}, 0);
    std::fclose(qf);
    EXPECT_EQ(r.verdict, CommandVerdict::defer);
    EXPECT_EQ(r.dsn.status, "4.3.0");
    EXPECT_NE(r.dsn.reason.find("fatal: execvp /nonexistent/cmd: No such file or directory"), std::string::npos)
        << r.dsn.reason;
    EXPECT_EQ(r.dsn.reason.find("pipe_command"), std::string::npos) << r.dsn.reason;
}

// The environment: export_environment, PATH, then the delivery variables,
// a later value of a name replacing the earlier one in place.
TEST(LocalCommand, EnvironmentOrder) {
    char* fake_environ[] = {const_cast<char*>("TZ=UTC"), const_cast<char*>("HOME=/root"), nullptr};
    auto env = ipc::command_environment({"TZ", "HOME", "X=1", "MISSING"}, fake_environ,
                                        {{"HOME", "/home/u"}, {"LOGNAME", "u"}, {"PATH", "/opt/bin"}});
    EXPECT_EQ(env, (std::vector<std::string>{"TZ=UTC", "HOME=/home/u", "X=1", "PATH=/opt/bin", "LOGNAME=u"}));
}

// comsat: "<login>@<offset>" and its NUL, as the reference sends it.
TEST(LocalBiff, MessageFormat) {
    EXPECT_EQ(biff_message("pfu1", 0), std::string("pfu1@0\0", 7));
    EXPECT_EQ(biff_message("pfu1", 517), std::string("pfu1@517\0", 9));
    EXPECT_EQ(biff_message("u", 5000000000LL), std::string("u@5000000000\0", 13));
}

}  // namespace
}  // namespace pf::local
