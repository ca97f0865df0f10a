// Unit tests of smtpd's protocol engine: whole conversations over a
// socketpair (the session runs in a thread of the test), checking the
// replies word for word as the reference gives them, for the commands that
// need no other service (greeting, EHLO keywords, HELO, NOOP, RSET, VRFY,
// syntax errors, unknown and forbidden commands, the error limit, pipelining
// detection, MAIL parameter errors, DATA/BDAT preconditions).
#include "daemon/smtpd/smtpd_session.h"

#include "util/msg.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace pf::smtpd {
namespace {

class SmtpdSessionTest : public ::testing::Test {
protected:
    SmtpdSessionTest() : config_("/nonexistent") {
        set("myhostname", "mail.example.com");
        set("mydomain", "example.com");
        set("mynetworks", "127.0.0.0/8");
        set("queue_directory", "/nonexistent-queue");
        set("compatibility_level", "3.6");
        set("smtpd_error_sleep_time", "0");
        set("smtpd_timeout", "5s");
        set("local_recipient_maps", "");
        util::msg_set_quiet(true);
    }
    ~SmtpdSessionTest() override {
        if (client_ >= 0) close(client_);
        if (thread_.joinable()) thread_.join();
        util::msg_set_quiet(false);
    }
    void set(const std::string& name, const std::string& value) { config_.set_override(name, value); }

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
    }
    // Reads one complete reply (all its lines), at most 5 seconds.
    std::string reply() {
        std::string& out = pending_;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        for (;;) {
            // A complete reply ends with a line whose 4th byte is a space;
            // what follows it stays for the next call.
            std::size_t start = 0;
            while (true) {
                auto nl = out.find("\r\n", start);
                if (nl == std::string::npos) break;
                if ((nl - start >= 4 && out[start + 3] == ' ') || nl - start == 3) {
                    std::string one = out.substr(0, nl + 2);
                    out.erase(0, nl + 2);
                    return one;
                }
                start = nl + 2;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::exchange(out, std::string()) + "(timeout)";
            pollfd p{client_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::exchange(out, std::string()) + "(timeout)";
            char buf[4096];
            ssize_t n = read(client_, buf, sizeof buf);
            if (n <= 0) return std::exchange(out, std::string()) + "(closed)";
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
    void send(std::string_view text) { ASSERT_EQ(write(client_, text.data(), text.size()), static_cast<ssize_t>(text.size())); }
    std::string command(std::string_view line) {
        send(std::string(line) + "\r\n");
        return reply();
    }
    bool closed_by_server() {
        if (!pending_.empty()) return false;
        pollfd p{client_, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) return false;
        char c;
        return read(client_, &c, 1) == 0;
    }

    config::Config config_;
    Server server_;
    int client_ = -1;
    std::string pending_;
    std::thread thread_;
};

TEST_F(SmtpdSessionTest, GreetingEhloHeloQuit) {
    start();
    EXPECT_EQ(reply(), "220 mail.example.com ESMTP Postfix\r\n");
    EXPECT_EQ(command("EHLO client.example.org"),
              "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
              "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");
    EXPECT_EQ(command("HELO client.example.org"), "250 mail.example.com\r\n");
    EXPECT_EQ(command("EHLO"), "501 Syntax: EHLO hostname\r\n");
    EXPECT_EQ(command("NOOP whatever"), "250 2.0.0 Ok\r\n");
    EXPECT_EQ(command("RSET x"), "501 5.5.4 Syntax: RSET\r\n");
    EXPECT_EQ(command("QUIT"), "221 2.0.0 Bye\r\n");
    EXPECT_TRUE(closed_by_server());
}

TEST_F(SmtpdSessionTest, DiscardedKeywordsAndLimits) {
    set("smtpd_discard_ehlo_keywords", "pipelining, dsn, silent-discard, etrn, 8bitmime, smtputf8, chunking");
    set("message_size_limit", "0");
    start();
    reply();
    EXPECT_EQ(command("EHLO c.example.org"), "250-mail.example.com\r\n250-SIZE\r\n250-VRFY\r\n250 ENHANCEDSTATUSCODES\r\n");
    EXPECT_EQ(command("MAIL FROM:<a@example.org> SMTPUTF8"), "555 5.5.4 Unsupported option: SMTPUTF8\r\n");
}

TEST_F(SmtpdSessionTest, SyntaxErrors) {
    start();
    reply();
    EXPECT_EQ(command(""), "500 5.5.2 Error: bad syntax\r\n");
    EXPECT_EQ(command("HELP"), "500 5.5.2 Error: command not recognized\r\n");
    EXPECT_EQ(command("RCPT TO:<b@example.com>"), "503 5.5.1 Error: need MAIL command\r\n");
    EXPECT_EQ(command("DATA"), "503 5.5.1 Error: need RCPT command\r\n");
    EXPECT_EQ(command("MAIL"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
    EXPECT_EQ(command("MAIL FROM:<a@example.org"), "501 5.1.7 Bad sender address syntax\r\n");
    EXPECT_EQ(command("MAIL FROM:<a@example.org> SIZE=abc"), "501 5.5.4 Bad message size syntax\r\n");
    EXPECT_EQ(command("MAIL FROM:<a@example.org> BODY=BINARYMIME"), "555 5.5.4 Unsupported option: BODY=BINARYMIME\r\n");
    EXPECT_EQ(command("MAIL FROM:<a@example.org> RET=BOTH"), "501 5.5.4 Bad RET parameter syntax\r\n");
    EXPECT_EQ(command("MAIL FROM:<a@example.org> ENVID=bad+zz"), "501 5.5.4 Bad ENVID parameter syntax\r\n");
    EXPECT_EQ(command("VRFY"), "501 5.5.4 Syntax: VRFY address [SMTPUTF8]\r\n");
    // Without trivial-rewrite the recipient check cannot decide: a 4xx,
    // never a "not found".
    EXPECT_EQ(command("VRFY bob"), "451 4.3.0 <bob>: Temporary lookup failure\r\n");
    EXPECT_EQ(command("ETRN"), "500 Syntax: ETRN domain\r\n");
    EXPECT_EQ(command("ETRN bad!domain"), "501 Error: invalid parameter syntax\r\n");
}

TEST_F(SmtpdSessionTest, MailTransactionStates) {
    start();
    reply();
    command("EHLO c.example.org");
    EXPECT_EQ(command("MAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=x+2By"), "250 2.1.0 Ok\r\n");
    EXPECT_EQ(command("MAIL FROM:<b@example.org>"), "503 5.5.1 Error: nested MAIL command\r\n");
    EXPECT_EQ(command("DATA"), "554 5.5.1 Error: no valid recipients\r\n");
    EXPECT_EQ(command("RCPT TO:<>"), "501 5.1.3 Bad recipient address syntax\r\n");
    EXPECT_EQ(command("RCPT TO:<b@example.com> NOTIFY=NEVER,SUCCESS"), "501 5.5.4 Error: Bad NOTIFY parameter syntax\r\n");
    EXPECT_EQ(command("RCPT TO:<b@example.com> ORCPT=foo"), "501 5.5.4 Error: Bad ORCPT parameter syntax\r\n");
    EXPECT_EQ(command("RCPT TO:<b@example.com> FOO=1"), "555 5.5.4 Unsupported option: FOO=1\r\n");
    EXPECT_EQ(command("ETRN example.com"), "503 Error: MAIL transaction in progress\r\n");
    // BDAT without recipients: the chunk is read and refused.
    send("BDAT 5 LAST\r\nhello");
    EXPECT_EQ(reply(), "554 5.5.1 Error: no valid recipients\r\n");
    EXPECT_EQ(command("RSET"), "250 2.0.0 Ok\r\n");
    EXPECT_EQ(command("BDAT x"), "521 5.5.4 Syntax: BDAT count [LAST]\r\n");
    EXPECT_TRUE(closed_by_server());
}

TEST_F(SmtpdSessionTest, ForbiddenCommandHangsUp) {
    start();
    reply();
    EXPECT_EQ(command("GET / HTTP/1.0"), "221 2.7.0 Error: I can break rules, too. Goodbye.\r\n");
    EXPECT_TRUE(closed_by_server());
}

TEST_F(SmtpdSessionTest, HeaderLineIsForbidden) {
    start();
    reply();
    EXPECT_EQ(command("Subject: hello"), "221 2.7.0 Error: I can break rules, too. Goodbye.\r\n");
}

TEST_F(SmtpdSessionTest, HardErrorLimit) {
    set("smtpd_hard_error_limit", "2");
    start();
    reply();
    EXPECT_EQ(command("FOO"), "500 5.5.2 Error: command not recognized\r\n");
    EXPECT_EQ(command("FOO"), "500 5.5.2 Error: command not recognized\r\n");
    EXPECT_EQ(reply(), "421 4.7.0 mail.example.com Error: too many errors\r\n");
    EXPECT_TRUE(closed_by_server());
}

TEST_F(SmtpdSessionTest, Timeout) {
    set("smtpd_timeout", "1s");
    start();
    reply();
    EXPECT_EQ(reply(), "421 4.4.2 mail.example.com Error: timeout exceeded\r\n");
}

TEST_F(SmtpdSessionTest, VrfyDisabledAndBanner) {
    set("disable_vrfy_command", "yes");
    set("smtpd_banner", "$myhostname ready");
    start();
    EXPECT_EQ(reply(), "220 mail.example.com ready\r\n");
    EXPECT_EQ(command("VRFY bob"), "502 5.5.1 VRFY command is disabled\r\n");
}

TEST_F(SmtpdSessionTest, BareNewlineRejected) {
    set("smtpd_forbid_bare_newline", "reject");
    set("smtpd_forbid_bare_newline_exclusions", "");
    start();
    reply();
    send("EHLO c.example.org\n");
    EXPECT_EQ(reply(), "550 5.5.2 mail.example.com Error: bare <LF> received\r\n");
    EXPECT_TRUE(closed_by_server());
}

TEST_F(SmtpdSessionTest, XclientNeedsAuthorization) {
    start();
    reply();
    EXPECT_EQ(command("XCLIENT NAME=x.example"), "550 5.7.0 Error: insufficient authorization\r\n");
    EXPECT_EQ(command("XFORWARD NAME=x.example"), "550 5.7.0 Error: insufficient authorization\r\n");
}

TEST_F(SmtpdSessionTest, XclientSyntax) {
    set("smtpd_authorized_xclient_hosts", "127.0.0.0/8");
    start();
    reply();
    EXPECT_EQ(command("XCLIENT"), "501 5.5.4 Syntax: XCLIENT attribute=value...\r\n");
    EXPECT_EQ(command("XCLIENT FOO=bar"), "501 5.5.4 Bad XCLIENT attribute name: FOO\r\n");
    EXPECT_EQ(command("XCLIENT ADDR"), "501 5.5.4 Error: attribute=value expected\r\n");
    EXPECT_EQ(command("XCLIENT ADDR=nonsense"), "501 5.5.4 Bad ADDR syntax: nonsense\r\n");
    EXPECT_EQ(command("XCLIENT NAME=client.example.net ADDR=192.0.2.7 PROTO=ESMTP"),
              "220 mail.example.com ESMTP Postfix\r\n");
    // The new identity is not an authorized one.
    EXPECT_EQ(command("XCLIENT NAME=other.example.net"), "550 5.7.0 Error: insufficient authorization\r\n");
}

TEST_F(SmtpdSessionTest, RejectFooter) {
    set("smtpd_reject_footer", "Help: call us.\\nYour address: $client_address");
    start();
    reply();
    EXPECT_EQ(command("FOO"), "500-5.5.2 Error: command not recognized\r\n500-5.5.2 Help: call us.\r\n"
                              "500 5.5.2 Your address: 127.0.0.1\r\n");
    EXPECT_EQ(command("ETRN"), "500-Syntax: ETRN domain\r\n500-Help: call us.\r\n500 Your address: 127.0.0.1\r\n");
    EXPECT_EQ(command("NOOP"), "250 2.0.0 Ok\r\n");
}

TEST_F(SmtpdSessionTest, PipeliningAfterHeloIsLoggedOnce) {
    start();
    reply();
    command("HELO c.example.org");
    send("MAIL FROM:<a@example.org>\r\nRSET\r\n");
    EXPECT_EQ(reply(), "250 2.1.0 Ok\r\n");
    EXPECT_EQ(reply(), "250 2.0.0 Ok\r\n");
    EXPECT_EQ(command("QUIT"), "221 2.0.0 Bye\r\n");
}

TEST(SmtpdTokenizer, KeepsBracketsAndQuotes) {
    auto t = tokenize_command("MAIL FROM:<alice smith@example.org>  SIZE=10 \"a b\"");
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t[0].text, "MAIL");
    EXPECT_EQ(t[1].text, "FROM:<alice smith@example.org>");
    EXPECT_EQ(t[2].text, "SIZE=10");
    EXPECT_EQ(t[3].text, "\"a b\"");
    EXPECT_TRUE(tokenize_command("   ").empty());
}

}  // namespace
}  // namespace pf::smtpd
