// Unit tests of the verify service client (ipc/verify_client.h) against
// a fake server on a socket under a temporary queue directory.
#include "ipc/verify_client.h"

#include "ipc/attr.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace pf::ipc {
namespace {

class VerifyClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/verify-client-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        std::filesystem::create_directory(dir_ + "/private");
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
        ASSERT_GE(listen_fd_, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::string path = dir_ + "/private/verify";
        std::snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path.c_str());
        ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)), 0);
        ASSERT_EQ(::listen(listen_fd_, 4), 0);
    }
    void TearDown() override {
        if (server_.joinable()) server_.join();
        ::close(listen_fd_);
        std::filesystem::remove_all(dir_);
    }
    // Serves one request with a fixed reply; remembers the request.
    void serve(AttrList reply) {
        server_ = std::thread([this, reply] {
            int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;
            std::string buf;
            auto req = receive_attrs(fd, buf, 5);
            if (req) request_ = *req;
            (void)send_attrs(fd, reply, 5);
            ::close(fd);
        });
    }
    std::string dir_;
    int listen_fd_ = -1;
    std::thread server_;
    AttrList request_;
};

TEST_F(VerifyClientTest, QueryReturnsStatusAndReason) {
    serve({{"status", "0"}, {"addr_status", "3"}, {"reason", "Address verification in progress"}});
    auto r = verify_query(dir_, "verify", "u@example.com", 5);
    server_.join();
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->status, RecipientStatus::kTodo);
    EXPECT_EQ(r->reason, "Address verification in progress");
    EXPECT_EQ(request_.get_or("request", ""), "query");
    EXPECT_EQ(request_.get_or("address", ""), "u@example.com");
}

TEST_F(VerifyClientTest, UpdateSendsStatus) {
    serve({{"status", "0"}});
    auto r = verify_update(dir_, "verify", "u@example.com", RecipientStatus::kBounce, "unknown user", 5);
    server_.join();
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(request_.get_or("request", ""), "update");
    EXPECT_EQ(request_.get_number("addr_status"), 2);
    EXPECT_EQ(request_.get_or("reason", ""), "unknown user");
}

TEST_F(VerifyClientTest, BadRepliesAreFailures) {
    serve({{"status", "-2"}});
    EXPECT_FALSE(verify_update(dir_, "verify", "u@example.com", RecipientStatus::kOk, "", 5));
    server_.join();
    serve({{"status", "0"}, {"addr_status", "9"}, {"reason", "x"}});
    EXPECT_FALSE(verify_query(dir_, "verify", "u@example.com", 5));
    server_.join();
    serve({{"status", "0"}});
    EXPECT_FALSE(verify_query(dir_, "verify", "u@example.com", 5));
    server_.join();
    EXPECT_FALSE(verify_query(dir_, "nosuchservice", "u@example.com", 5));
    EXPECT_EQ(recipient_status_name(RecipientStatus::kDefer), "undeliverable");
    EXPECT_EQ(recipient_status_name(RecipientStatus::kOk), "deliverable");
}

}  // namespace
}  // namespace pf::ipc
