// Unit tests of smtpd's before-queue filter client (smtpd_proxy_filter):
// a whole conversation over a socketpair with a scripted filter on a UNIX
// socket (both in threads of the test): what the filter receives, and the
// replies the client gets when the filter accepts, refuses, or is down.
#include "daemon/smtpd/smtpd_proxy.h"

#include "util/msg.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace pf::smtpd {
namespace {

TEST(SmtpdProxyReply, MultiLineGetsContinuationMarks) {
    EXPECT_EQ(proxy_format_reply("250 2.0.0 Ok"), "250 2.0.0 Ok");
    EXPECT_EQ(proxy_format_reply("550 5.7.1 a\r\n550 5.7.1 b"), "550-5.7.1 a\r\n550 5.7.1 b");
    EXPECT_EQ(proxy_format_reply("550-a\r\n550-b\r\n550-c"), "550-a\r\n550-b\r\n550 c");
}

// Reads one CRLF line from fd (at most 5 s); empty at EOF.
std::string read_line(int fd) {
    std::string line;
    char c;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) return line;
        if (read(fd, &c, 1) != 1) return line;
        if (c == '\n') {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        line.push_back(c);
    }
}

void write_all(int fd, const std::string& text) {
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

class SmtpdProxyTest : public ::testing::Test {
protected:
    SmtpdProxyTest() : config_("/nonexistent") {
        path_ = "/tmp/pf-proxy-test-" + std::to_string(getpid()) + ".sock";
        set("myhostname", "mail.example.com");
        set("mydomain", "example.com");
        set("mydestination", "example.com");
        set("mynetworks", "127.0.0.0/8");
        set("queue_directory", "/nonexistent-queue");
        set("compatibility_level", "3.6");
        set("smtpd_error_sleep_time", "0");
        set("smtpd_timeout", "5s");
        set("smtpd_proxy_timeout", "5s");
        set("local_recipient_maps", "");
        // No trivial-rewrite here: nothing that needs an address resolved.
        set("smtpd_relay_restrictions", "check_client_access static:OK, reject");
        set("smtpd_recipient_restrictions", "permit");
        set("smtpd_reject_unlisted_recipient", "no");
        set("smtpd_reject_unlisted_sender", "no");
        set("smtpd_proxy_filter", "unix:" + path_);
        util::msg_set_quiet(true);
    }
    ~SmtpdProxyTest() override {
        if (client_ >= 0) close(client_);
        if (thread_.joinable()) thread_.join();
        if (filter_thread_.joinable()) filter_thread_.join();
        if (listen_fd_ >= 0) close(listen_fd_);
        unlink(path_.c_str());
        util::msg_set_quiet(false);
    }
    void set(const std::string& name, const std::string& value) { config_.set_override(name, value); }

    // A filter that answers every command 250 (DATA 354), "." as told,
    // and records what it gets. One connection.
    void start_filter(std::string dot_reply) {
        listen_fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::strncpy(sun.sun_path, path_.c_str(), sizeof sun.sun_path - 1);
        unlink(path_.c_str());
        ASSERT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0);
        ASSERT_EQ(listen(listen_fd_, 1), 0);
        filter_thread_ = std::thread([this, dot_reply] {
            pollfd p{listen_fd_, POLLIN, 0};
            if (poll(&p, 1, 5000) <= 0) return;
            int fd = accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;
            write_all(fd, "220 filter ESMTP\r\n");
            bool data = false;
            for (;;) {
                std::string line = read_line(fd);
                if (line.empty() && !data) break;
                received_.push_back(line);
                if (data) {
                    if (line == ".") {
                        data = false;
                        write_all(fd, dot_reply + "\r\n");
                    }
                    continue;
                }
                if (line.starts_with("EHLO")) write_all(fd, "250-filter\r\n250 PIPELINING\r\n");
                else if (line == "DATA") {
                    data = true;
                    write_all(fd, "354 go ahead\r\n");
                } else if (line == "QUIT") break;
                else write_all(fd, "250 2.0.0 Ok\r\n");
            }
            close(fd);
        });
    }
    void start() {
        server_.config = &config_;
        server_.settings = Settings::from_config(config_);
        server_.restrictions = std::make_unique<Restrictions>(config_);
        int fds[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        client_ = fds[1];
        int server_fd = fds[0];
        thread_ = std::thread([this, server_fd] {
            smtpd_session(server_, server_fd);
            close(server_fd);
        });
        EXPECT_EQ(read_line(client_).substr(0, 3), "220");
    }
    // One command; the whole reply (lines joined by "|").
    std::string command(const std::string& line) {
        write_all(client_, line + "\r\n");
        std::string out;
        for (;;) {
            std::string l = read_line(client_);
            out += l;
            if (l.size() < 4 || l[3] != '-') return out;
            out += "|";
        }
    }

    config::Config config_;
    Server server_;
    std::string path_;
    int client_ = -1, listen_fd_ = -1;
    std::thread thread_, filter_thread_;
    std::vector<std::string> received_;
};

TEST_F(SmtpdProxyTest, TransactionGoesToTheFilter) {
    start_filter("250 2.0.0 Ok: queued as ABC123");
    start();
    command("EHLO client.example.org");
    EXPECT_EQ(command("MAIL FROM:<alice@example.org> SIZE=10"), "250 2.1.0 Ok");
    EXPECT_EQ(command("RCPT TO:<bob@example.com>"), "250 2.1.5 Ok");
    EXPECT_EQ(command("DATA"), "354 End data with <CR><LF>.<CR><LF>");
    EXPECT_EQ(command("Subject: x\r\n\r\n..dot\r\n."), "250 2.0.0 Ok: queued as ABC123");
    EXPECT_EQ(command("QUIT"), "221 2.0.0 Bye");
    thread_.join();
    filter_thread_.join();
    ASSERT_GE(received_.size(), 10u);
    EXPECT_EQ(received_[0], "EHLO mail.example.com");
    EXPECT_EQ(received_[1], "MAIL FROM:<alice@example.org> SIZE=10");
    EXPECT_EQ(received_[2], "RCPT TO:<bob@example.com>");
    EXPECT_EQ(received_[3], "DATA");
    EXPECT_TRUE(received_[4].starts_with("Received: from client.example.org"));
    // The content keeps the client's dot-stuffing; then ".", then QUIT.
    EXPECT_EQ(received_[received_.size() - 3], "..dot");
    EXPECT_EQ(received_[received_.size() - 2], ".");
    EXPECT_EQ(received_.back(), "QUIT");
}

TEST_F(SmtpdProxyTest, FilterRefusalIsTheReply) {
    start_filter("554 5.7.1 spam");
    start();
    command("EHLO client.example.org");
    command("MAIL FROM:<alice@example.org>");
    command("RCPT TO:<bob@example.com>");
    command("DATA");
    EXPECT_EQ(command("Subject: x\r\n\r\nbody\r\n."), "554 5.7.1 spam");
    EXPECT_EQ(command("QUIT"), "221 2.0.0 Bye");
}

TEST_F(SmtpdProxyTest, FilterDownGives451) {
    start();   // nothing listens on the socket
    command("EHLO client.example.org");
    EXPECT_EQ(command("MAIL FROM:<alice@example.org>"), "250 2.1.0 Ok");
    EXPECT_EQ(command("RCPT TO:<bob@example.com>"), "451 4.3.0 Error: queue file write error");
    EXPECT_EQ(command("DATA"), "554 5.5.1 Error: no valid recipients");
    EXPECT_EQ(command("QUIT"), "221 2.0.0 Bye");
}

}  // namespace
}  // namespace pf::smtpd
