// pipe(8): command attributes, argv= macro expansion, the environment,
// the exit-status mapping and one real command run (as the current user).
// Expected values are what the reference's pipe produced for the same
// input in a side-by-side run (see delivery_client.py / e2e_pipe.sh).
#include "pipe/pipe_argv.h"
#include "pipe/pipe_attr.h"
#include "pipe/pipe_command.h"

#include "queue/record.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace pf::pipe {
namespace {

std::vector<std::string> words(std::initializer_list<const char*> w) { return {w.begin(), w.end()}; }

TEST(PipeAttr, ParsesEverything) {
    PipeIdentityLimits limits;
    limits.owner_uid = 9999;
    limits.owner_gid = 9999;
    limits.setgid_gid = 9998;
    auto a = parse_pipe_attr(words({"flags=BDFORX.>hqu", "USER=nobody", "eol=\\r\\n", "null_sender=", "size=1000",
                                    "directory=/tmp", "argv=/bin/cat", "-", "${recipient}"}),
                             limits);
    ASSERT_TRUE(a.has_value()) << a.error();
    EXPECT_EQ(a->flags, 0x7ffu);
    EXPECT_EQ(a->eol, "\r\n");
    EXPECT_EQ(a->null_sender, "");
    EXPECT_EQ(a->size_limit, 1000);
    EXPECT_EQ(a->exec_dir, "/tmp");
    EXPECT_EQ(a->command, words({"/bin/cat", "-", "${recipient}"}));
    EXPECT_NE(a->uid, 0u);
}

TEST(PipeAttr, ReferenceErrors) {
    PipeIdentityLimits limits;
    limits.owner_uid = 9999;
    limits.owner_gid = 9999;
    limits.setgid_gid = 9998;
    EXPECT_EQ(parse_pipe_attr(words({"flags=Z", "user=nobody", "argv=x"}), limits).error(), "unknown flag: Z (ignored)");
    EXPECT_EQ(parse_pipe_attr(words({"argv=x"}), limits).error(), "missing user= command-line attribute");
    EXPECT_EQ(parse_pipe_attr(words({"user=nobody"}), limits).error(), "missing argv= command-line attribute");
    EXPECT_EQ(parse_pipe_attr(words({"user=root", "argv=x"}), limits).error(),
              "user= command-line attribute specifies root privileges");
    EXPECT_EQ(parse_pipe_attr(words({"user=no-such-user-x", "argv=x"}), limits).error(),
              "get_service_attr: unknown username: no-such-user-x");
    EXPECT_EQ(parse_pipe_attr(words({"user=nobody:no-such-group-x", "argv=x"}), limits).error(),
              "get_service_attr: unknown group: no-such-group-x");
    EXPECT_EQ(parse_pipe_attr(words({"user=nobody", "size=12k", "argv=x"}), limits).error(),
              "get_service_attr: bad size= value: 12k");
    EXPECT_EQ(parse_pipe_attr(words({"user=nobody", "bogus=1", "argv=x"}), limits).error(),
              "unknown attribute name: bogus=1");
    EXPECT_EQ(parse_pipe_attr(words({"user=nobody:root", "argv=x"}), limits).error(),
              "user= command-line attribute specifies privileged group id 0");
}

TEST(PipeAttr, Unescape) {
    EXPECT_EQ(unescape("\\r\\n"), "\r\n");
    EXPECT_EQ(unescape("a\\101\\7b\\\\\\q"), std::string("aA\007b\\q"));
    EXPECT_EQ(unescape("x\\"), "x");
}

ipc::DeliveryRequest request_with(std::vector<ipc::DeliveryRecipient> rcpts) {
    ipc::DeliveryRequest r;
    r.queue_id = "0E0DDA965D5";
    r.nexthop = "NH.Example";
    r.sender = "snd@example.org";
    r.data_size = 298;
    r.recipients = std::move(rcpts);
    return r;
}

struct Warnings {
    std::vector<std::string> lines;
    WarnFn fn() {
        return [this](const std::string& s) { lines.push_back(s); };
    }
};

MacroContext context(unsigned flags = 0) {
    MacroContext c;
    c.service = "recpipe";
    c.config_directory = "/etc/postfix";
    c.flags = flags;
    c.recipient_delimiter = "+";
    return c;
}

// The reference's argv for flags=DORX and the recording command.
TEST(PipeArgv, SingleRecipientAllMacros) {
    auto req = request_with({{"User+ext@pipe.test", "User+ext@pipe.test", "", 0, 246}});
    Warnings w;
    auto argv = expand_pipe_argv(words({"/x", "${nexthop}", "${recipient}", "${original_recipient}", "${sender}",
                                        "${user}", "${extension}", "${mailbox}", "${domain}", "${size}",
                                        "${queue_id}", "${client_address}", "${user} x", "$extension",
                                        "$(mailbox)", "$$", "a b", "", "end"}),
                                 req, context(), w.fn());
    ASSERT_TRUE(argv.has_value());
    EXPECT_EQ(*argv, words({"/x", "NH.Example", "User+ext@pipe.test", "User+ext@pipe.test", "snd@example.org", "User",
                            "ext", "User+ext", "pipe.test", "298", "0E0DDA965D5", "", "User x", "ext", "User+ext",
                            "$", "a b", "", "end"}));
    EXPECT_TRUE(w.lines.empty());
}

TEST(PipeArgv, MultiRecipient) {
    auto req = request_with({{"", "B@Multi.test", "", 0, 1}, {"", "a@multi.test", "", 0, 2},
                             {"", "c d@multi.test", "", 0, 3}});
    req.sender = "";
    Warnings w;
    auto argv = expand_pipe_argv(words({"/x", "${recipient}", "-", "x${recipient}y", "${sender}"}), req, context(),
                                 w.fn());
    ASSERT_TRUE(argv.has_value());
    EXPECT_EQ(*argv, words({"/x", "B@Multi.test", "a@multi.test", "c d@multi.test", "-", "xB@Multi.testy",
                            "xa@multi.testy", "xc d@multi.testy", "MAILER-DAEMON"}));
}

// flags=hqu with null_sender=NULLS, as observed on the reference.
TEST(PipeArgv, FoldAndQuoteFlags) {
    auto req = request_with({{"+Ext@Flag.TEST", "+Ext@Flag.TEST", "", 0, 1}});
    req.sender = "";
    req.nexthop = "Flag.TEST";
    auto ctx = context(kFlagFoldHost | kFlagFoldUser | kFlagQuoteLocal);
    ctx.null_sender = "NULLS";
    Warnings w;
    auto argv = expand_pipe_argv(words({"${sender}", "${recipient}", "${nexthop}", "${user}", "${domain}",
                                        "${mailbox}"}),
                                 req, ctx, w.fn());
    ASSERT_TRUE(argv.has_value());
    EXPECT_EQ(*argv, words({"NULLS", "+ext@flag.test", "flag.test", "+ext", "flag.test", "+ext"}));

    auto quoted = request_with({{"", "C D@X.Y", "", 0, 1}});
    quoted.sender = "a b@c";
    argv = expand_pipe_argv(words({"${recipient}", "${sender}", "${mailbox}"}), quoted, context(kFlagQuoteLocal),
                            w.fn());
    ASSERT_TRUE(argv.has_value());
    EXPECT_EQ(*argv, words({"\"C D\"@X.Y", "\"a b\"@c", "C D"}));
}

TEST(PipeArgv, EmptyUserDropsWordAndBadMacros) {
    auto req = request_with({{"", "+only@x", "", 0, 1}, {"", "bob+e@x", "", 0, 2}, {"", "noat", "", 0, 3}});
    auto ctx = context();
    ctx.recipient_delimiter = "+";
    Warnings w;
    auto argv = expand_pipe_argv(words({"${user}", "${domain}"}), req, ctx, w.fn());
    ASSERT_TRUE(argv.has_value());
    // "+only" is not split (the delimiter may not start the local-part).
    EXPECT_EQ(*argv, words({"+only", "bob", "noat", "x", "x", ""}));
    EXPECT_FALSE(w.lines.empty());

    w.lines.clear();
    auto bad = expand_pipe_argv(words({"${user?has user}"}), req, ctx, w.fn());
    EXPECT_FALSE(bad.has_value());
    ASSERT_EQ(w.lines.size(), 1u);
    EXPECT_EQ(w.lines[0], "file /etc/postfix/master.cf: service recpipe: unknown macro name: \"user?has user\"");
    w.lines.clear();
    EXPECT_FALSE(expand_pipe_argv(words({"${extension:x}"}), req, ctx, w.fn()).has_value());
    EXPECT_FALSE(expand_pipe_argv(words({"${recipient"}), req, ctx, w.fn()).has_value());
    EXPECT_EQ(w.lines.back(), "truncated macro reference: \"${recipient\"");
    EXPECT_FALSE(expand_pipe_argv(words({"a$"}), req, ctx, w.fn()).has_value());
    EXPECT_EQ(w.lines.back(), "empty macro name: \"a$\"");
}

TEST(PipeCommand, ExitMapping) {
    CommandRun run;
    run.exited = true;
    run.exit_status = 75;
    auto o = map_command_result(run, "/x");
    EXPECT_EQ(o.status, CommandStatus::defer);
    EXPECT_EQ(o.dsn.status, "4.3.0");
    EXPECT_EQ(o.dsn.reason, "temporary failure");
    EXPECT_EQ(o.dsn.dtype, "x-unix");
    EXPECT_EQ(o.dsn.dtext, "temporary failure");

    run.exit_status = 67;
    o = map_command_result(run, "/x");
    EXPECT_EQ(o.status, CommandStatus::bounce);
    EXPECT_EQ(o.dsn.status, "5.1.1");
    EXPECT_EQ(o.dsn.reason, "user unknown");

    run.exit_status = 3;
    run.output = "some output\n";
    o = map_command_result(run, "/tmp/exit.sh");
    EXPECT_EQ(o.status, CommandStatus::bounce);
    EXPECT_EQ(o.dsn.status, "5.3.0");
    EXPECT_EQ(o.dsn.reason, "Command died with status 3: \"/tmp/exit.sh\". Command output: some output ");

    run.exit_status = 4;
    run.output.clear();
    o = map_command_result(run, "/tmp/exit.sh");
    EXPECT_EQ(o.dsn.reason, "Command died with status 4: \"/tmp/exit.sh\"");
    EXPECT_EQ(o.dsn.dtext, "unknown mail system error 4");

    run.exit_status = 1;
    run.output = "4.7.2 custom dsn text\n";
    o = map_command_result(run, "/x");
    EXPECT_EQ(o.status, CommandStatus::defer);
    EXPECT_EQ(o.dsn.status, "4.7.2");
    EXPECT_EQ(o.dsn.reason, "custom dsn text ");

    run.output = "5.2.2 mailbox full\n";
    o = map_command_result(run, "/x");
    EXPECT_EQ(o.status, CommandStatus::bounce);
    EXPECT_EQ(o.dsn.reason, "mailbox full ");

    run.exit_status = 70;
    run.output = "oops";
    o = map_command_result(run, "/x");
    EXPECT_EQ(o.dsn.reason, "internal software error. Command output: oops");

    CommandRun sig;
    sig.signaled = true;
    sig.signal = 9;
    o = map_command_result(sig, "/tmp/exit.sh");
    EXPECT_EQ(o.status, CommandStatus::defer);
    EXPECT_EQ(o.dsn.reason, "Command died with signal 9: \"/tmp/exit.sh\"");
    EXPECT_EQ(o.dsn.dtext, "internal software error");

    CommandRun slow;
    slow.timed_out = true;
    slow.signaled = true;
    o = map_command_result(slow, "/x");
    EXPECT_EQ(o.status, CommandStatus::bounce);
    EXPECT_EQ(o.dsn.status, "5.3.0");
    EXPECT_EQ(o.dsn.reason, "Command time limit exceeded: \"/x\"");

    CommandRun ok;
    ok.exited = true;
    ok.output = "line1\nline2\ttab\001ctl\n";
    o = map_command_result(ok, "/x");
    EXPECT_EQ(o.status, CommandStatus::ok);
    EXPECT_EQ(o.dsn.reason, "line1 line2 tab_ctl ");
}

TEST(PipeCommand, Environment) {
    const char* env[] = {"HOME=/root", "TZ=UTC", "LANG=C", "PATH=/sbin", "MAIL_CONFIG=/etc/postfix", nullptr};
    auto out = command_environment(words({"TZ", "MAIL_CONFIG", "LANG", "FOO=bar", "MISSING"}),
                                   const_cast<char**>(env));
    EXPECT_EQ(out, words({"TZ=UTC", "MAIL_CONFIG=/etc/postfix", "LANG=C", "FOO=bar", "PATH=/usr/bin:/bin"}));
}

// A real run: the message on stdin, argv, the environment and the output.
TEST(PipeCommand, RunsCommandAsItself) {
    std::FILE* f = std::tmpfile();
    queue::write_record(f, 'N', "Subject: t");
    queue::write_record(f, 'N', "");
    queue::write_record(f, 'N', "body");
    queue::write_record(f, 'X', "");
    std::fflush(f);
    CommandSpec spec;
    spec.argv = words({"sh", "-c", "cat; echo \"$0 $PATH $HOME\"; exit 67", "arg0"});
    spec.uid = ::getuid();
    spec.gid = ::getgid();
    spec.env = words({"PATH=/usr/bin:/bin"});
    spec.time_limit = 20;
    ipc::CopyEnvelope env;
    env.sender = "s@x";
    auto run = run_command(spec, f, 0, env, ipc::kCopyReturnPath, "\n");
    EXPECT_TRUE(run.exited);
    EXPECT_EQ(run.exit_status, 67);
    EXPECT_EQ(run.output, "Return-Path: <s@x>\nSubject: t\n\nbody\narg0 /usr/bin:/bin \n");
    auto o = map_command_result(run, spec.argv[0]);
    EXPECT_EQ(o.dsn.status, "5.1.1");

    spec.argv = words({"/nonexistent/cmd"});
    run = run_command(spec, f, 0, env, 0, "\n");
    EXPECT_EQ(run.exit_status, 75);
    EXPECT_NE(run.output.find("fatal: pipe_command: execvp /nonexistent/cmd: No such file or directory"),
              std::string::npos)
        << run.output;

    spec.argv = words({"sleep", "30"});
    spec.time_limit = 1;
    run = run_command(spec, f, 0, env, 0, "\n");
    EXPECT_TRUE(run.timed_out);
    EXPECT_EQ(map_command_result(run, "sleep").dsn.reason, "Command time limit exceeded: \"sleep\"");
    std::fclose(f);
}

}  // namespace
}  // namespace pf::pipe
