// Unit tests of the anvil client (ipc/anvil_client.h) against anvil's
// counters (anvil_table.h) served from a thread on a private/anvil socket
// in a temporary queue directory: the reference's counts and rates as
// smtpd sees them, the identifier format, and the failure path when the
// service cannot be reached (two attempts, one pause between them).
#include "daemon/anvil/anvil_table.h"
#include "ipc/anvil_client.h"
#include "ipc/attr.h"
#include "util/msg.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>

namespace pf::ipc {
namespace {

class AnvilClientTest : public ::testing::Test {
protected:
    AnvilClientTest() {
        char tmpl[] = "/tmp/pf-anvil-client-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        ::mkdir((dir_ + "/private").c_str(), 0700);
        util::msg_set_quiet(true);
    }
    ~AnvilClientTest() override {
        if (listen_fd_ >= 0) {
            ::shutdown(listen_fd_, SHUT_RDWR);
            ::close(listen_fd_);
        }
        if (server_.joinable()) server_.join();
        ::unlink((dir_ + "/private/anvil").c_str());
        ::rmdir((dir_ + "/private").c_str());
        ::rmdir(dir_.c_str());
        util::msg_set_quiet(false);
    }

    // Serves one client connection at a time with anvil's counters.
    void start_server() {
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::string path = dir_ + "/private/anvil";
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        ASSERT_EQ(::listen(listen_fd_, 4), 0);
        server_ = std::thread([this] {
            anvil::AnvilTable table(60);
            int client_id = 0;
            for (;;) {
                int fd = ::accept(listen_fd_, nullptr, nullptr);
                if (fd < 0) return;
                ++client_id;
                ++connections_;
                std::string buffer;
                for (;;) {
                    auto req = receive_attrs(fd, buffer, 5);
                    if (!req) break;
                    std::string what(req->get("request").value_or(""));
                    std::string ident(req->get("ident").value_or(""));
                    std::time_t now = 1000;
                    AttrList reply;
                    if (what == "connect") {
                        const auto& r = table.connect(client_id, ident, now);
                        reply.add("status", 0LL).add("count", static_cast<long long>(r.count)).add(
                            "rate", static_cast<long long>(r.rate));
                    } else if (what == "disconnect") {
                        table.disconnect(client_id, ident, now);
                        reply.add("status", 0LL);
                    } else if (what == "message" || what == "recipient") {
                        auto ev = what == "message" ? anvil::AnvilTable::Event::mail : anvil::AnvilTable::Event::rcpt;
                        reply.add("status", 0LL).add("rate",
                                                     static_cast<long long>(table.event(client_id, ev, ident, now)));
                    } else if (what == "lookup") {
                        auto r = table.lookup(ident, now);
                        reply.add("status", 0LL)
                            .add("count", static_cast<long long>(r.count))
                            .add("rate", static_cast<long long>(r.rate))
                            .add("mail", static_cast<long long>(r.mail))
                            .add("rcpt", static_cast<long long>(r.rcpt))
                            .add("newtls", static_cast<long long>(r.ntls))
                            .add("auth", static_cast<long long>(r.auth));
                    } else {
                        reply.add("status", -1LL);
                    }
                    if (!send_attrs(fd, reply, 5)) break;
                }
                table.client_gone(client_id, 1000);
                ::close(fd);
            }
        });
    }

    std::string dir_;
    int listen_fd_ = -1;
    std::thread server_;
    int connections_ = 0;
};

TEST_F(AnvilClientTest, IdentIsServiceColonAddressPrintable) {
    EXPECT_EQ(anvil_ident("smtp", "192.0.2.1"), "smtp:192.0.2.1");
    EXPECT_EQ(anvil_ident("127.0.0.1:25", "2001:db8::1"), "127.0.0.1:25:2001:db8::1");
    EXPECT_EQ(anvil_ident("sm\ttp", std::string("a\x01\x80", 3)), "sm?tp:a??");
}

TEST_F(AnvilClientTest, CountsAndRatesOverOneConnection) {
    start_server();
    AnvilClient client(dir_, 5);
    auto c1 = client.connect("smtp:192.0.2.1");
    ASSERT_TRUE(c1);
    EXPECT_EQ(c1->count, 1);
    EXPECT_EQ(c1->rate, 1);
    // The same smtpd connects again: anvil drops its previous connection.
    auto c2 = client.connect("smtp:192.0.2.1");
    ASSERT_TRUE(c2);
    EXPECT_EQ(c2->count, 1);
    EXPECT_EQ(c2->rate, 2);
    EXPECT_EQ(client.message("smtp:192.0.2.1").value_or(-1), 1);
    EXPECT_EQ(client.message("smtp:192.0.2.1").value_or(-1), 2);
    EXPECT_EQ(client.recipient("smtp:192.0.2.1").value_or(-1), 1);
    auto look = client.lookup("smtp:192.0.2.1");
    ASSERT_TRUE(look);
    EXPECT_EQ(look->count, 1);
    EXPECT_EQ(look->mail, 2);
    EXPECT_EQ(look->rcpt, 1);
    EXPECT_TRUE(client.disconnect("smtp:192.0.2.1"));
    look = client.lookup("smtp:192.0.2.1");
    ASSERT_TRUE(look);
    EXPECT_EQ(look->count, 0);
    EXPECT_EQ(look->rate, 2);   // the rate outlives the connection
    EXPECT_EQ(connections_, 1);  // one connection for all requests
}

TEST_F(AnvilClientTest, ServerStatusFailureIsAnError) {
    start_server();
    AnvilClient client(dir_, 5);
    EXPECT_FALSE(client.newtls("smtp:192.0.2.1"));   // the test server knows no newtls
}

TEST_F(AnvilClientTest, UnreachableServiceFailsAfterTwoAttempts) {
    AnvilClient client(dir_, 5);
    int slept = 0;
    client.sleep_for = [&](int s) { slept += s; };
    EXPECT_FALSE(client.connect("smtp:192.0.2.1"));
    EXPECT_EQ(slept, 1);
}

}  // namespace
}  // namespace pf::ipc
