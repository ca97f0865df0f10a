// Unit tests of the verify service client (ipc/verify_client.h) against
// a fake server on a socket under a temporary queue directory.
#include "ipc/verify_client.h"

#include "ipc/attr.h"
#include "private_service_fixture.h"

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

class VerifyClientTest : public PrivateServiceFixture {
protected:
    VerifyClientTest() : PrivateServiceFixture("verify-client", "verify") {}
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
