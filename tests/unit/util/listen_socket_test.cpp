// Listening endpoints (util/listen_socket.h) and the client side that
// reaches them (ipc/service_client.h): UNIX stream sockets, FIFOs,
// endpoint splitting, errors in errno words.
#include "ipc/service_client.h"
#include "util/listen_socket.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pf::util {
namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pf-listen-XXXXXX";
        path = ::mkdtemp(tmpl);
        ::mkdir((path + "/public").c_str(), 0755);
        ::mkdir((path + "/private").c_str(), 0700);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

TEST(ListenSocketTest, SplitsInetEndpoints) {
    struct Case {
        const char* in;
        bool ok;
        const char* host;
        const char* port;
    } cases[] = {
        {"127.0.0.1:25", true, "127.0.0.1", "25"}, {"smtp", true, "", "smtp"},
        {"[::1]:2525", true, "::1", "2525"},       {"*:587", true, "", "587"},
        {"[::1]", false, "", ""},                   {"host:", false, "", ""},
    };
    for (const auto& c : cases) {
        std::string host, port;
        EXPECT_EQ(split_inet_endpoint(c.in, host, port), c.ok) << c.in;
        if (c.ok) {
            EXPECT_EQ(host, c.host) << c.in;
            EXPECT_EQ(port, c.port) << c.in;
        }
    }
}

TEST(ListenSocketTest, UnixStreamRoundTripWithAttributes) {
    TempDir dir;
    std::string path = dir.path + "/private/svc";
    auto fd = listen_unix_stream(path, 10, 0666);
    ASSERT_TRUE(fd.has_value()) << fd.error();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0666u);

    auto conn = ipc::connect_service(dir.path, "private", "svc", 5);
    ASSERT_TRUE(conn.has_value()) << conn.error();
    int server = -1;
    for (int i = 0; i < 100 && server < 0; ++i) server = ::accept(*fd, nullptr, nullptr);
    ASSERT_GE(server, 0);
    ASSERT_TRUE(conn->send(ipc::AttrList{{"request", "ping"}}, 5).has_value());
    std::string buffer;
    auto got = ipc::receive_attrs(server, buffer, 5);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->get_or("request", ""), "ping");
    ASSERT_TRUE(ipc::send_attrs(server, ipc::AttrList{{"status", "0"}}, 5).has_value());
    auto reply = conn->receive(5);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->get_number("status"), 0);
    ::close(server);
    ::close(*fd);
}

TEST(ListenSocketTest, TriggerThroughUnixSocketAndFifo) {
    TempDir dir;
    auto sock = listen_unix_stream(dir.path + "/public/qmgr", 10, 0666);
    ASSERT_TRUE(sock.has_value());
    ASSERT_TRUE(ipc::send_trigger(dir.path, "public", "qmgr", "W", 5).has_value());
    int client = -1;
    for (int i = 0; i < 100 && client < 0; ++i) client = ::accept(*sock, nullptr, nullptr);
    ASSERT_GE(client, 0);
    char buf[8];
    EXPECT_EQ(::read(client, buf, sizeof(buf)), 1);
    EXPECT_EQ(buf[0], 'W');
    ::close(client);
    ::close(*sock);

    auto fifo = listen_fifo(dir.path + "/public/pickup", 0622);
    ASSERT_TRUE(fifo.has_value()) << fifo.error();
    ASSERT_TRUE(ipc::send_trigger(dir.path, "public", "pickup", "IA", 5).has_value());
    ssize_t n = ::read(*fifo, buf, sizeof(buf));
    ASSERT_EQ(n, 2);
    EXPECT_EQ(std::string(buf, 2), "IA");
    ::close(*fifo);
}

TEST(ListenSocketTest, MissingServiceIsAnErrnoText) {
    TempDir dir;
    auto conn = ipc::connect_service(dir.path, "private", "nothing", 1);
    ASSERT_FALSE(conn.has_value());
    EXPECT_EQ(conn.error(), "No such file or directory");
    auto sent = ipc::send_trigger(dir.path, "public", "nothing", "W", 1);
    ASSERT_FALSE(sent.has_value());
}

TEST(ListenSocketTest, StaleSocketIsReplaced) {
    TempDir dir;
    std::string path = dir.path + "/private/again";
    auto a = listen_unix_stream(path, 10, 0666);
    ASSERT_TRUE(a.has_value());
    ::close(*a);
    auto b = listen_unix_stream(path, 10, 0666);
    ASSERT_TRUE(b.has_value()) << b.error();
    ::close(*b);
}

}  // namespace
}  // namespace pf::util
