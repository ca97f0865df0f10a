// The daemon skeleton (ipc/mail_server.h) in stand-alone mode (-S -s),
// run in a forked child on a private configuration: the single-server
// reuses one process until max_use and then exits 0; -o overrides reach the
// configuration; a trigger server gets the bytes; args after the options
// reach the daemon; the multi-server keeps a connection while the handler
// asks to; under master, a multi-server's status reports; words after the
// options are fatal for a daemon that takes none, once a client is served.
// No root needed.
#include "ipc/mail_server.h"
#include "ipc/service_client.h"
#include "util/listen_socket.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

namespace pf::ipc {
namespace {

struct Instance {
    std::string dir;
    Instance() {
        char tmpl[] = "/tmp/pf-mailserver-XXXXXX";
        dir = ::mkdtemp(tmpl);
        std::ofstream(dir + "/main.cf") << "queue_directory = " << dir << "\n"
                                        << "mail_owner = daemon\ndefault_privs = nobody\nsetgid_group = bin\n"
                                        << "myhostname = unit.example\nmaillog_file = " << dir << "/log\n"
                                        << "maillog_file_prefixes = /tmp\n";
    }
    ~Instance() { std::system(("rm -rf " + dir).c_str()); }
    std::string sock() const { return dir + "/sock"; }
};

// Runs body in a child process with MAIL_CONFIG set; returns its pid.
template <typename Body>
pid_t fork_daemon(const Instance& inst, Body body) {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setenv("MAIL_CONFIG", inst.dir.c_str(), 1);
        ::_exit(body());
    }
    return pid;
}

bool wait_exists(const std::string& path) {
    for (int i = 0; i < 400; ++i) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0) return true;
        ::usleep(10000);
    }
    return false;
}

// Exit status of pid, or -1 when it does not end within 10 s.
int wait_exit(pid_t pid) {
    for (int i = 0; i < 1000; ++i) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        ::usleep(10000);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
}

// The socket file appears at bind(), a moment before listen(): a refused
// connection is tried again for up to 4 s.
auto connect_retrying(const std::string& path) {
    auto conn = connect_unix(path, 5);
    for (int i = 0; i < 400 && !conn && conn.error().find("refused") != std::string::npos; ++i) {
        ::usleep(10000);
        conn = connect_unix(path, 5);
    }
    return conn;
}

std::string ask(const std::string& path, const AttrList& request) {
    auto conn = connect_retrying(path);
    if (!conn) return "connect: " + conn.error();
    if (!conn->send(request, 5)) return "send failed";
    auto reply = conn->receive(5);
    if (!reply) return "receive failed";
    return reply->get_or("answer", "");
}

TEST(MailServerTest, SingleServerServesUntilMaxUse) {
    Instance inst;
    pid_t pid = fork_daemon(inst, [&] {
        std::string s = inst.sock();
        std::vector<std::string> args = {"unitd", "-S", "-s", s, "-o", "max_use=2", "-o", "myorigin = o.example"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        return run_single_server(static_cast<int>(args.size()), argv.data(), {}, [](ServerContext& ctx, int fd) {
            std::string buffer;
            auto req = receive_attrs(fd, buffer, 5);
            std::string answer = std::to_string(::getpid()) + " " + ctx.config.get("myorigin") + " " +
                                 std::to_string(ctx.max_use) + " " + ctx.service_name;
            (void)send_attrs(fd, AttrList{{"answer", answer}}, 5);
            return false;
        });
    });
    ASSERT_TRUE(wait_exists(inst.sock()));
    std::string expect = std::to_string(pid) + " o.example 2 unitd";
    EXPECT_EQ(ask(inst.sock(), AttrList{{"q", "1"}}), expect);
    EXPECT_EQ(ask(inst.sock(), AttrList{{"q", "2"}}), expect);
    EXPECT_EQ(wait_exit(pid), 0);
}

TEST(MailServerTest, TriggerServerGetsBytesAndArgs) {
    Instance inst;
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    pid_t pid = fork_daemon(inst, [&] {
        std::string s = inst.sock();
        std::vector<std::string> args = {"trig", "-S", "-s", s, "-n", "kick", "-o", "max_use=1", "extra", "-x"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ServerHooks hooks;
        hooks.takes_args = true;
        return run_trigger_server(static_cast<int>(args.size()), argv.data(), std::move(hooks),
                                  [&](ServerContext& ctx, std::string_view bytes) {
                                      std::string out = ctx.service_name + ":" + std::string(bytes);
                                      for (const auto& a : ctx.args) out += "," + a;
                                      (void)!::write(p[1], out.data(), out.size());
                                  });
    });
    ::close(p[1]);
    ASSERT_TRUE(wait_exists(inst.sock()));
    auto slash = inst.sock().rfind('/');
    std::string parent = inst.sock().substr(0, slash);
    auto pslash = parent.rfind('/');
    ASSERT_TRUE(send_trigger(parent.substr(0, pslash), parent.substr(pslash + 1), "sock", "W", 5).has_value());
    char buf[128];
    ssize_t n = ::read(p[0], buf, sizeof(buf));
    ::close(p[0]);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), "kick:W,extra,-x");
    EXPECT_EQ(wait_exit(pid), 0);
}

TEST(MailServerTest, MultiServerKeepsConnectionWhileAsked) {
    Instance inst;
    pid_t pid = fork_daemon(inst, [&] {
        std::string s = inst.sock();
        std::vector<std::string> args = {"multi", "-S", "-s", s, "-o", "max_use=1"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        return run_multi_server(static_cast<int>(args.size()), argv.data(), {}, [](ServerContext&, int fd) {
            std::string buffer;
            auto req = receive_attrs(fd, buffer, 5);
            if (!req) return false;
            (void)send_attrs(fd, AttrList{{"answer", req->get_or("q", "")}}, 5);
            return req->get_or("q", "") != "last";
        });
    });
    ASSERT_TRUE(wait_exists(inst.sock()));
    auto conn = connect_unix(inst.sock(), 5);
    ASSERT_TRUE(conn.has_value());
    for (const char* q : {"one", "two", "last"}) {
        ASSERT_TRUE(conn->send(AttrList{{"q", q}}, 5).has_value());
        auto reply = conn->receive(5);
        ASSERT_TRUE(reply.has_value()) << q;
        EXPECT_EQ(reply->get_or("answer", ""), q);
    }
    EXPECT_EQ(wait_exit(pid), 0);
}

TEST(MailServerTest, StandaloneWithoutSocketServesStdin) {
    Instance inst;
    int in[2], out[2];
    ASSERT_EQ(::pipe(in), 0);
    ASSERT_EQ(::pipe(out), 0);
    pid_t pid = fork_daemon(inst, [&] {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        std::vector<std::string> args = {"stdind", "-S"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        return run_single_server(2, argv.data(), {}, [](ServerContext&, int fd) {
            char c[16];
            ssize_t n = ::read(fd, c, sizeof(c));
            if (n > 0) (void)!::write(1, c, static_cast<std::size_t>(n));
            return false;
        });
    });
    ::close(in[0]);
    ::close(out[1]);
    ASSERT_EQ(::write(in[1], "hi", 2), 2);
    ::close(in[1]);
    char buf[16];
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    ::close(out[0]);
    EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "hi");
    EXPECT_EQ(wait_exit(pid), 0);
}


// Under master (listening socket on fd 6, status pipe on fd 5): a multi
// server whose last client leaves while the next connection is already
// waiting takes it without telling master "available" and "busy" in
// between, and says "available" once at the end.
TEST(MailServerTest, MultiServerKeepsBusyForAWaitingConnection) {
    Instance inst;
    const std::string path = inst.sock();
    int status_pipe[2];
    ASSERT_EQ(::pipe(status_pipe), 0);
    int go_pipe[2];
    ASSERT_EQ(::pipe(go_pipe), 0);
    // Out of the way of the descriptors the child sets up (5 and 6).
    for (int* fd : {&status_pipe[0], &status_pipe[1], &go_pipe[0], &go_pipe[1]}) {
        int high = ::fcntl(*fd, F_DUPFD, 100);
        ASSERT_GE(high, 100);
        ::close(*fd);
        *fd = high;
    }
    pid_t pid = fork_daemon(inst, [&] {
        auto listener = util::listen_unix_stream(path, 16, 0666);
        if (!listener) return 90;
        if (::dup2(*listener, kListenFd) < 0 || ::dup2(status_pipe[1], kStatusFd) < 0) return 91;
        ::close(status_pipe[0]);
        ::close(go_pipe[1]);
        // Start serving only once the test has queued both connections.
        char go;
        if (::read(go_pipe[0], &go, 1) != 1) return 92;
        std::vector<std::string> args = {"unitd", "-n", "unitd", "-t", "unix", "-o", "max_use=2"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        return run_multi_server(static_cast<int>(args.size()), argv.data(), {}, [](ServerContext&, int fd) {
            std::string buffer;
            auto req = receive_attrs(fd, buffer, 5);
            (void)send_attrs(fd, AttrList{{"answer", req ? req->get_or("q", "") : "?"}}, 5);
            return false;
        });
    });
    ::close(status_pipe[1]);
    ::close(go_pipe[0]);
    ASSERT_TRUE(wait_exists(path));
    auto first = connect_retrying(path);
    auto second = connect_retrying(path);
    ASSERT_TRUE(first && second) << (first ? second.error() : first.error());
    ASSERT_TRUE(first->send(AttrList{{"q", "1"}}, 5));
    ASSERT_TRUE(second->send(AttrList{{"q", "2"}}, 5));
    ASSERT_EQ(::write(go_pipe[1], "g", 1), 1);
    auto r1 = first->receive(5);
    auto r2 = second->receive(5);
    ASSERT_TRUE(r1 && r2);
    EXPECT_EQ(r1->get_or("answer", ""), "1");
    EXPECT_EQ(r2->get_or("answer", ""), "2");
    EXPECT_EQ(wait_exit(pid), 0);
    std::string reports;
    char buf[256];
    for (ssize_t n; (n = ::read(status_pipe[0], buf, sizeof buf)) > 0;) reports.append(buf, static_cast<std::size_t>(n));
    ::close(status_pipe[0]);
    ::close(go_pipe[1]);
    const std::string p = std::to_string(pid);
    EXPECT_EQ(reports, p + " 1\n" + p + " 0\n");
}

// The fatal line a stand-alone daemon prints is not the test's output.
void quiet_stderr() {
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 2);
}

// A daemon that takes no arguments, given one ("trivial-rewrite extra" in
// master.cf), stops with status 1 when it would first serve, without
// calling its handler, as every reference daemon but pipe, spawn and smtp.
// kind: "single", "multi" or "trigger".
int run_with_extra_argument(const Instance& inst, const std::string& kind, int handler_pipe) {
    util::msg_set_fatal_sleep(false);
    quiet_stderr();
    std::string s = inst.sock();
    std::vector<std::string> args = {"unitd", "-S", "-s", s, "extra", "more"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int argc = static_cast<int>(args.size());
    auto handler = [handler_pipe](ServerContext&, int) {
        (void)!::write(handler_pipe, "h", 1);
        return false;
    };
    if (kind == "single") return run_single_server(argc, argv.data(), {}, handler);
    if (kind == "multi") return run_multi_server(argc, argv.data(), {}, handler);
    return run_trigger_server(argc, argv.data(), {}, [handler_pipe](ServerContext&, std::string_view) {
        (void)!::write(handler_pipe, "h", 1);
    });
}

TEST(MailServerTest, UnexpectedArgumentIsFatalWhenServing) {
    for (std::string kind : {"single", "multi", "trigger"}) {
        Instance inst;
        int p[2];
        ASSERT_EQ(::pipe(p), 0);
        pid_t pid = fork_daemon(inst, [&] { return run_with_extra_argument(inst, kind, p[1]); });
        ::close(p[1]);
        ASSERT_TRUE(wait_exists(inst.sock())) << kind;
        auto conn = connect_retrying(inst.sock());
        ASSERT_TRUE(conn.has_value()) << kind;
        // A multi-server waits for the client to say something first.
        ASSERT_TRUE(conn->send(AttrList{{"q", "1"}}, 5).has_value()) << kind;
        EXPECT_FALSE(conn->receive(5).has_value()) << kind;
        EXPECT_EQ(wait_exit(pid), 1) << kind;
        char c;
        EXPECT_EQ(::read(p[0], &c, 1), 0) << kind << ": the handler ran";
        ::close(p[0]);
    }
}

TEST(MailServerTest, UnexpectedArgumentOnStdinIsFatalAtOnce) {
    Instance inst;
    int in[2];
    ASSERT_EQ(::pipe(in), 0);
    pid_t pid = fork_daemon(inst, [&] {
        util::msg_set_fatal_sleep(false);
        quiet_stderr();
        ::dup2(in[0], 0);
        std::vector<std::string> args = {"stdind", "-S", "extra"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        return run_multi_server(3, argv.data(), {}, [](ServerContext&, int) { return false; });
    });
    ::close(in[0]);
    // Stdin stays open: the daemon does not wait for it.
    EXPECT_EQ(wait_exit(pid), 1);
    ::close(in[1]);
}

}  // namespace
}  // namespace pf::ipc
