// The scache protocol end to end: our client (ipc/scache_client.h)
// against the daemon's request handling (daemon/scache/scache_service.h)
// on a UNIX socket under a temporary queue directory, with descriptors
// really passed both ways.
#include "daemon/scache/scache_service.h"
#include "ipc/attr.h"
#include "ipc/scache_client.h"

#include "../../ipc/private_service_fixture.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace pf::scache {
namespace {

class ScacheProtocolTest : public ipc::PrivateServiceFixture {
protected:
    ScacheProtocolTest() : PrivateServiceFixture("scache-proto", "scache") {}
    // Serves one client connection until it goes away (bounded: 10 s of
    // silence ends it too).
    void serve_one() {
        server_ = std::thread([this] {
            int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;
            bool keep = service_.serve(fd);
            while (keep) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 10000) <= 0) break;
                keep = service_.serve(fd);
            }
            ::close(fd);
        });
    }

    Service service_{2, 5};
};

TEST_F(ScacheProtocolTest, SaveAndFindPassConnectionsBothWays) {
    serve_one();
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    ipc::UniqueFd read_end(p[0]);
    {
        ipc::ScacheClient client(dir_, "scache", 5);
        // A ttl above connection_cache_ttl_limit (2) is capped.
        client.save_dest(30, "dest-label", "dprop", "endp-label");
        client.save_endp(30, "endp-label", "eprop", ipc::UniqueFd(p[1]));
        EXPECT_FALSE(client.find_endp("no-such-endpoint"));
        auto found = client.find_dest("dest-label");
        ASSERT_TRUE(found);
        EXPECT_EQ(found->dest_prop, "dprop");
        EXPECT_EQ(found->endp_prop, "eprop");
        ASSERT_TRUE(found->fd.valid());
        ASSERT_EQ(::write(found->fd.get(), "via cache", 9), 9);
        // Taken: not there a second time.
        EXPECT_FALSE(client.find_dest("dest-label"));
        EXPECT_FALSE(client.disabled());
    }
    server_.join();
    char buf[16] = {};
    ASSERT_EQ(::read(read_end.get(), buf, sizeof buf), 9);
    EXPECT_EQ(std::string(buf, 9), "via cache");
    auto lines = service_.dump_statistics(0);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_TRUE(lines[0].starts_with("statistics: start interval "));
    EXPECT_EQ(lines[1], "statistics: domain lookup hits=1 miss=1 success=50%");
    EXPECT_EQ(lines[2], "statistics: address lookup hits=0 miss=1 success=0%");
    EXPECT_EQ(lines[3], "statistics: max simultaneous domains=1 addresses=1 connection=1");
    // A new interval starts empty.
    EXPECT_TRUE(service_.dump_statistics(0).empty());
}

TEST_F(ScacheProtocolTest, SavedTtlIsCappedByTheLimit) {
    serve_one();
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    ipc::UniqueFd read_end(p[0]);
    {
        ipc::ScacheClient client(dir_, "scache", 5);
        auto before = Clock::now();
        client.save_endp(3600, "e", "p", ipc::UniqueFd(p[1]));
        client.close();
        server_.join();
        auto next = service_.store().next_expiry();
        ASSERT_TRUE(next);
        EXPECT_LE(*next, Clock::now() + std::chrono::seconds(2));
        EXPECT_GE(*next, before + std::chrono::seconds(2));
    }
}

TEST_F(ScacheProtocolTest, MalformedAndUnknownRequestsGetStatusBad) {
    serve_one();
    auto conn = ipc::connect_service(dir_, "private", "scache", 5);
    ASSERT_TRUE(conn);
    auto hello = conn->receive(5);
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->get_or("protocol", ""), "connection_cache_protocol");
    ASSERT_TRUE(conn->send(ipc::AttrList{{"request", "save_dest"}, {"ttl", "0"}, {"label", "x"}}, 5));
    auto r1 = conn->receive(5);
    ASSERT_TRUE(r1);
    EXPECT_EQ(r1->get_number("status"), 1);
    ASSERT_TRUE(conn->send(ipc::AttrList{{"request", "frobnicate"}}, 5));
    auto r2 = conn->receive(5);
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->get_number("status"), 1);
    ASSERT_TRUE(conn->send(ipc::AttrList{{"request", "find_dest"}, {"label", "none"}}, 5));
    auto r3 = conn->receive(5);
    ASSERT_TRUE(r3);
    EXPECT_EQ(r3->get_number("status"), 2);
    EXPECT_EQ(r3->get_all("property").size(), 2u);
    *conn = ipc::ServiceConnection();
}

TEST(ScacheClientDown, DisablesCachingAfterTwoFailures) {
    ipc::ScacheClient client("/nonexistent-scache-dir", "scache", 1);
    EXPECT_FALSE(client.find_dest("x"));
    EXPECT_TRUE(client.disabled());
    // No further attempts (and no further waiting).
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(client.find_endp("y"));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace pf::scache
