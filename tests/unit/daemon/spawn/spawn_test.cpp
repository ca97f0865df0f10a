// spawn(8): the command attributes (user=, argv=) with the reference's
// checks and texts, and running a command on a connection (its output
// reaches the client end; exit status and time-limit outcomes; the
// warnings the daemon logs for them).
#include "daemon/spawn/spawn_attr.h"
#include "daemon/spawn/spawn_command.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using pf::spawn::parse_spawn_attr;
using pf::spawn::SpawnAccountLookup;
using pf::spawn::SpawnOwner;

// A fixed account table: root 0/0, postfix 100/101 (the owner), nobody
// 65534/65534, minus 4294967295/4294967295; groups root 0, mail 8,
// postfix 101.
SpawnAccountLookup table_lookup() {
    SpawnAccountLookup l;
    l.user = [](const std::string& name) -> std::optional<SpawnAccountLookup::User> {
        static const std::map<std::string, SpawnAccountLookup::User> users{
            {"root", {0, 0}}, {"postfix", {100, 101}}, {"nobody", {65534, 65534}},
            {"minus", {static_cast<uid_t>(-1), static_cast<gid_t>(-1)}}, {"grpminus", {500, static_cast<gid_t>(-1)}}};
        auto it = users.find(name);
        if (it == users.end()) return std::nullopt;
        return it->second;
    };
    l.group = [](const std::string& name) -> std::optional<gid_t> {
        static const std::map<std::string, gid_t> groups{{"root", 0}, {"mail", 8}, {"postfix", 101}};
        auto it = groups.find(name);
        if (it == groups.end()) return std::nullopt;
        return it->second;
    };
    return l;
}

const SpawnOwner kOwner{100, 101};

std::string error_of(const std::vector<std::string>& words) {
    auto r = parse_spawn_attr(words, table_lookup(), kOwner);
    return r ? std::string("ok") : r.error();
}

TEST(SpawnAttr, UserAndArgv) {
    auto r = parse_spawn_attr({"user=nobody", "argv=/usr/bin/policyd", "-c", "two words"}, table_lookup(), kOwner);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->uid, 65534u);
    EXPECT_EQ(r->gid, 65534u);
    EXPECT_EQ(r->argv, (std::vector<std::string>{"/usr/bin/policyd", "-c", "two words"}));
}

TEST(SpawnAttr, GroupOverridesAndEmptyGroupIsThePrimary) {
    auto r = parse_spawn_attr({"user=nobody:mail", "argv=x"}, table_lookup(), kOwner);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->gid, 8u);
    r = parse_spawn_attr({"user=nobody:", "argv=x"}, table_lookup(), kOwner);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->gid, 65534u);
}

TEST(SpawnAttr, NamesWithoutRegardToCase) {
    auto r = parse_spawn_attr({"USER=nobody", "Argv=/bin/x", "user=root"}, table_lookup(), kOwner);
    ASSERT_TRUE(r);
    // Everything after argv= is the command's, even "user=root".
    EXPECT_EQ(r->argv, (std::vector<std::string>{"/bin/x", "user=root"}));
    EXPECT_EQ(r->uid, 65534u);
}

TEST(SpawnAttr, LaterUserWins) {
    auto r = parse_spawn_attr({"user=nobody:mail", "user=nobody", "argv=x"}, table_lookup(), kOwner);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->gid, 65534u);
}

TEST(SpawnAttr, ReferenceFatalTexts) {
    EXPECT_EQ(error_of({"user=nobody"}), "missing argv= attribute");
    EXPECT_EQ(error_of({"argv=/bin/true"}), "missing user= attribute");
    EXPECT_EQ(error_of({}), "missing user= attribute");
    EXPECT_EQ(error_of({"user=nobody", "flags=R", "argv=x"}), "unknown attribute name: flags=R");
    EXPECT_EQ(error_of({"flags=R"}), "unknown attribute name: flags=R");
    EXPECT_EQ(error_of({"user=nosuch", "argv=x"}), "unknown user name: nosuch");
    EXPECT_EQ(error_of({"user=nobody:nosuch", "argv=x"}), "unknown group name: nosuch");
    EXPECT_EQ(error_of({"user=root", "argv=x"}), "request to deliver as root");
    EXPECT_EQ(error_of({"user=root:mail", "argv=x"}), "request to deliver as root");
    EXPECT_EQ(error_of({"user=postfix", "argv=x"}), "request to deliver as mail system owner");
    EXPECT_EQ(error_of({"user=nobody:root", "argv=x"}), "request to use privileged group id 0");
    EXPECT_EQ(error_of({"user=nobody:postfix", "argv=x"}), "request to use mail system owner group id 101");
    EXPECT_EQ(error_of({"user=minus", "argv=x"}), "user must not have user ID -1");
    EXPECT_EQ(error_of({"user=grpminus", "argv=x"}), "user must not have group ID -1");
    // The first bad word stops the scan, as the reference's fatal does.
    EXPECT_EQ(error_of({"user=nosuch", "bogus", "argv=x"}), "unknown user name: nosuch");
}

TEST(SpawnAttr, EmptyArgvWordIsAnEmptyCommand) {
    auto r = parse_spawn_attr({"user=nobody", "argv="}, table_lookup(), kOwner);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->argv, std::vector<std::string>{""});
}

TEST(SpawnExitWarnings, ReferenceTexts) {
    EXPECT_TRUE(pf::spawn::spawn_exit_warnings("/bin/x", 0).empty());
    EXPECT_EQ(pf::spawn::spawn_exit_warnings("/bin/x", 3 << 8),
              std::vector<std::string>{"command /bin/x exit status 3"});
    EXPECT_EQ(pf::spawn::spawn_exit_warnings("/bin/x", SIGKILL),
              std::vector<std::string>{"command /bin/x killed by signal 9"});
}

// Reads what the command wrote on its connection until it closes.
std::string read_all(int fd) {
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
}

pf::spawn::SpawnRequest sh_request(const std::string& script, int fd) {
    pf::spawn::SpawnRequest r;
    r.argv = {"sh", "-c", script};  // found through the child's PATH
    r.uid = ::geteuid();
    r.gid = ::getegid();
    r.env = {"TZ=UTC", "PATH=/usr/bin:/bin"};
    r.time_limit = 10;
    r.client_fd = fd;
    return r;
}

TEST(SpawnCommand, ConnectionIsStdinStdoutStderr) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_EQ(::write(sv[0], "ping\n", 5), 5);
    ::shutdown(sv[0], SHUT_WR);
    auto request = sh_request("read x; echo \"got $x\"; echo err >&2; echo \"env $TZ $PATH $HOME\"; exit 3", sv[1]);
    auto outcome = pf::spawn::spawn_command(request);
    ::close(sv[1]);
    EXPECT_EQ(read_all(sv[0]), "got ping\nerr\nenv UTC /usr/bin:/bin \n");
    ::close(sv[0]);
    ASSERT_TRUE(WIFEXITED(outcome.wait_status));
    EXPECT_EQ(WEXITSTATUS(outcome.wait_status), 3);
}

TEST(SpawnCommand, NewSessionAndNoOtherDescriptors) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int extra = ::dup(sv[1]);  // not close-on-exec: must not reach the command
    ASSERT_GE(extra, 3);
    auto request = sh_request("ls /proc/self/fd | wc -l; ps -o sid= -p $$ | tr -d ' '; echo $$", sv[1]);
    auto outcome = pf::spawn::spawn_command(request);
    ::close(sv[1]);
    ::close(extra);
    std::string out = read_all(sv[0]);
    ::close(sv[0]);
    EXPECT_TRUE(WIFEXITED(outcome.wait_status) && WEXITSTATUS(outcome.wait_status) == 0) << out;
    // ls sees 0, 1, 2 and its own directory descriptor.
    auto first_nl = out.find('\n');
    ASSERT_NE(first_nl, std::string::npos);
    EXPECT_EQ(out.substr(0, first_nl), "4");
    auto second_nl = out.find('\n', first_nl + 1);
    ASSERT_NE(second_nl, std::string::npos);
    std::string sid = out.substr(first_nl + 1, second_nl - first_nl - 1);
    std::string pid = out.substr(second_nl + 1);
    if (!pid.empty() && pid.back() == '\n') pid.pop_back();
    if (!sid.empty()) {
        EXPECT_EQ(sid, pid);  // ps may be missing: then only the count
    }
}

TEST(SpawnCommand, TimeLimitKillsOwnCommand) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    auto request = sh_request("exec sleep 30", sv[1]);
    request.time_limit = 1;
    auto outcome = pf::spawn::spawn_command(request);
    ::close(sv[1]);
    ::close(sv[0]);
    ASSERT_TRUE(WIFSIGNALED(outcome.wait_status));
    EXPECT_EQ(WTERMSIG(outcome.wait_status), SIGKILL);
}

TEST(SpawnCommand, ExecFailureExitsOne) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    auto request = sh_request("", sv[1]);
    request.argv = {"/nonexistent/spawn-test-command"};
    pf::util::msg_set_fatal_sleep(false);  // the child's fatal error: no pause
    auto outcome = pf::spawn::spawn_command(request);
    pf::util::msg_set_fatal_sleep(true);
    ::close(sv[1]);
    ::close(sv[0]);
    ASSERT_TRUE(WIFEXITED(outcome.wait_status));
    EXPECT_EQ(WEXITSTATUS(outcome.wait_status), 1);
}

}  // namespace
