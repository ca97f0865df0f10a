// Unit tests for the client table types (socketmap, tcp, proxy) against
// small in-test servers on UNIX-domain sockets or loopback, and for unix:,
// internal: and nis:. Expected answers and error kinds are those observed
// from postmap 3.7.11 (tests/integration/table_clients.py compares the
// diagnostics with the reference itself).
#include "dict/dict_proxy.h"
#include "dict/dict_registry.h"
#include "ipc/attr.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace pf::dict {
namespace {

// A server on a fresh UNIX-domain socket (or loopback port) that hands each
// accepted connection to a handler; one thread, closed by the destructor.
class TestServer {
public:
    using Handler = std::function<void(int fd)>;

    TestServer(bool inet, Handler handler) : handler_(std::move(handler)) {
        if (inet) {
            fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in sin{};
            sin.sin_family = AF_INET;
            sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
            socklen_t len = sizeof(sin);
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);
            address_ = "127.0.0.1:" + std::to_string(ntohs(sin.sin_port));
        } else {
            char tmpl[] = "/tmp/pf-tables-unit.XXXXXX";
            dir_ = ::mkdtemp(tmpl);
            address_ = dir_ + "/sock";
            fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un sun{};
            sun.sun_family = AF_UNIX;
            std::snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", address_.c_str());
            EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)), 0);
        }
        ::listen(fd_, 8);
        thread_ = std::thread([this] {
            for (;;) {
                int c = ::accept(fd_, nullptr, nullptr);
                if (c < 0) return;
                conn_ = c;
                handler_(c);
                conn_ = -1;
                ::close(c);
            }
        });
    }
    // Clients may keep their connection (the proxy client's is shared by
    // the whole process): end the one being served, then the listener.
    ~TestServer() {
        if (int c = conn_; c >= 0) ::shutdown(c, SHUT_RDWR);
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
        if (!dir_.empty()) {
            ::unlink(address_.c_str());
            ::rmdir(dir_.c_str());
        }
    }
    const std::string& address() const { return address_; }
    const std::string& dir() const { return dir_; }

private:
    Handler handler_;
    int fd_ = -1;
    std::atomic<int> conn_{-1};
    std::string address_;
    std::string dir_;
    std::thread thread_;
};

// Reads one netstring; empty optional at EOF.
std::optional<std::string> read_netstring(int fd) {
    std::string len;
    char c;
    while (::read(fd, &c, 1) == 1) {
        if (c == ':') {
            std::string data(std::stoul(len) + 1, '\0');
            size_t got = 0;
            while (got < data.size()) {
                ssize_t n = ::read(fd, data.data() + got, data.size() - got);
                if (n <= 0) return std::nullopt;
                got += static_cast<size_t>(n);
            }
            data.pop_back();
            return data;
        }
        len += c;
    }
    return std::nullopt;
}

void write_all(int fd, const std::string& s) { ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size())); }

std::string netstring(const std::string& s) { return std::to_string(s.size()) + ":" + s + ","; }

// Answers "<map> <key>" requests: found:<v>, temp, perm, close (drop the
// connection), otherwise NOTFOUND; "count" answers the request number on
// this connection.
void socketmap_handler(int fd) {
    int count = 0;
    while (auto req = read_netstring(fd)) {
        ++count;
        std::string key = req->substr(req->find(' ') + 1);
        if (key == "close") return;
        std::string reply = key.rfind("found:", 0) == 0 ? "OK " + key.substr(6)
                            : key == "temp"             ? "TEMP busy"
                            : key == "perm"             ? "PERM broken"
                            : key == "count"            ? "OK " + std::to_string(count)
                            : key == "echo"             ? "OK " + *req
                                                        : "NOTFOUND ";
        write_all(fd, netstring(reply));
    }
}

std::string answer(Dict& d, std::string_view key) {
    LookupResult r = d.lookup(key);
    if (r.is_found()) return "=" + r.value();
    if (r.is_error()) return std::string(r.error().kind == Error::Kind::retry ? "!retry" : "!config");
    return "-";
}

DictPtr must_open(const std::string& name, int open_flags = O_RDONLY) {
    auto d = open(name, open_flags, kFoldFixed);
    EXPECT_TRUE(d) << name << ": " << (d ? "" : d.error().text);
    return d ? std::move(*d) : nullptr;
}

TEST(TableClientsTest, SocketmapAnswersAndErrorKinds) {
    TestServer server(false, socketmap_handler);
    DictPtr d = must_open("socketmap:unix:" + server.address() + ":mymap");
    ASSERT_TRUE(d);
    EXPECT_EQ(answer(*d, "found:value one"), "=value one");
    EXPECT_EQ(answer(*d, "missing"), "-");
    EXPECT_EQ(answer(*d, "echo"), "=mymap echo");
    EXPECT_EQ(answer(*d, "temp"), "!retry");
    EXPECT_EQ(answer(*d, "perm"), "!config");
    EXPECT_NE(d->flags() & kPattern, 0u);
}

TEST(TableClientsTest, SocketmapReusesAndRecoversItsConnection) {
    TestServer server(true, socketmap_handler);
    DictPtr d = must_open("socketmap:inet:" + server.address() + ":m");
    ASSERT_TRUE(d);
    EXPECT_EQ(answer(*d, "count"), "=1");
    EXPECT_EQ(answer(*d, "count"), "=2");
    // The server drops the connection: the retry on a new one fails too.
    EXPECT_EQ(answer(*d, "close"), "!retry");
    EXPECT_EQ(answer(*d, "count"), "=1");
}

TEST(TableClientsTest, SocketmapRefusesWritesAndDeadServersAreRetryErrors) {
    auto w = open("socketmap:inet:127.0.0.1:1:m", O_RDWR, kFoldFixed);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().text, "socketmap:inet:127.0.0.1:1:m map requires O_RDONLY access mode");
    DictPtr d = must_open("socketmap:unix:/nonexistent/socket:m");
    ASSERT_TRUE(d);
    LookupResult r = d->lookup("k");
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().kind, Error::Kind::retry);
    EXPECT_EQ(r.error().text, "No such file or directory");
}

// tcp: "get <quoted key>" -> reply per key.
void tcp_handler(int fd) {
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1) {
        if (c != '\n') {
            line += c;
            continue;
        }
        std::string key = line.substr(4);
        line.clear();
        std::string reply = key == "found"   ? "200 value%20one%2a"
                            : key == "temp"  ? "400 busy"
                            : key == "bad"   ? "600 what"
                            : key == "mal"   ? "200 a%zz"
                            : key.rfind("echo", 0) == 0 ? "200 " + key
                                                        : "500 nope";
        write_all(fd, reply + "\n");
    }
}

TEST(TableClientsTest, TcpQuotesKeysAndDecodesValues) {
    TestServer server(true, tcp_handler);
    DictPtr d = must_open("tcp:" + server.address());
    ASSERT_TRUE(d);
    EXPECT_EQ(answer(*d, "found"), "=value one*");
    EXPECT_EQ(answer(*d, "missing"), "-");
    // The server echoes the quoted key; the client decodes it again.
    EXPECT_EQ(answer(*d, "echo a%b\x01\xff"), "=echo a%b\x01\xff");
    EXPECT_EQ(answer(*d, "temp"), "!retry");
    EXPECT_EQ(answer(*d, "bad"), "!retry");
    EXPECT_EQ(answer(*d, "mal"), "!retry");
    EXPECT_EQ(answer(*d, "found"), "=value one*");
}

TEST(TableClientsTest, UnixPasswdAndGroup) {
    DictPtr pw = must_open("unix:passwd.byname");
    ASSERT_TRUE(pw);
    EXPECT_EQ(answer(*pw, "root").rfind("=root:", 0), 0u);
    EXPECT_EQ(answer(*pw, "ROOT").rfind("=root:x:0:0:", 0), 0u);
    EXPECT_EQ(answer(*pw, "no-such-user-here"), "-");
    DictPtr gr = must_open("unix:group.byname");
    ASSERT_TRUE(gr);
    EXPECT_EQ(answer(*gr, "root").rfind("=root:x:0:", 0), 0u);
    auto bad = open("unix:other", O_RDONLY, 0);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().text, "unknown table: unix:other");
    auto rw = open("unix:passwd.byname", O_RDWR, 0);
    ASSERT_FALSE(rw);
    EXPECT_EQ(rw.error().text, "unix:passwd.byname map requires O_RDONLY access mode");
}

TEST(TableClientsTest, InternalIsAnEmptyInMemoryTable) {
    DictPtr d = must_open("internal:x");
    ASSERT_TRUE(d);
    EXPECT_EQ(answer(*d, "k"), "-");
    EXPECT_FALSE(d->sequence(SequenceStart::first));
    EXPECT_EQ(d->update("Key", "v"), ChangeStatus::done);
    EXPECT_EQ(answer(*d, "KEY"), "=v");
    auto e = d->sequence(SequenceStart::first);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->key, "key");
    EXPECT_EQ(d->remove("key"), ChangeStatus::done);
    EXPECT_EQ(d->remove("key"), ChangeStatus::not_found);
}

TEST(TableClientsTest, NisFindsNothingWithoutADomain) {
    DictPtr d = must_open("nis:mail.aliases");
    ASSERT_TRUE(d);
    EXPECT_EQ(answer(*d, "postmaster"), "-");
    auto rw = open("nis:x", O_RDWR, 0);
    ASSERT_FALSE(rw);
    EXPECT_EQ(rw.error().text, "nis:x map requires O_RDONLY access mode");
}

TEST(TableClientsTest, ProxyEncodingIsTheAttributeWireFormat) {
    std::vector<std::pair<std::string, std::string>> attrs{{"request", "lookup"}, {"key", "a\\b\nc"}};
    attrs.emplace_back("value", std::string("x\0y", 3));
    ipc::AttrList list;
    for (const auto& [n, v] : attrs) list.add(n, v);
    EXPECT_EQ(proxy_encode(attrs), ipc::encode_attrs(list));
}

// A proxymap speaking our protocol: open answers the table's flags, lookup
// answers from a fixed entry.
void proxymap_handler(int fd) {
    std::string buf;
    char c;
    while (::read(fd, &c, 1) == 1) {
        buf += c;
        if (buf.size() < 2 || buf.substr(buf.size() - 2) != "\n\n") continue;
        size_t used = 0;
        auto req = ipc::decode_attrs(buf, used);
        buf.clear();
        ASSERT_TRUE(req);
        ipc::AttrList reply;
        std::string what = req->get_or("request", "");
        if (what == "open") {
            reply.add("status", 0LL).add("flags", static_cast<long long>(kFixed));
        } else if (what == "lookup" && req->get_or("key", "") == "alice") {
            reply.add("status", 0LL).add("value", "alice@example.com");
        } else if (what == "lookup" && req->get_or("key", "") == "busy") {
            reply.add("status", 2LL).add("value", "");
        } else {
            reply.add("status", 1LL).add("value", "");
        }
        write_all(fd, ipc::encode_attrs(reply));
    }
}

TEST(TableClientsTest, ProxyTalksToProxymap) {
    TestServer server(false, proxymap_handler);
    // The socket is <queue_directory>/private/proxymap.
    std::string queue = server.dir() + "/queue";
    ASSERT_EQ(::mkdir(queue.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((queue + "/private").c_str(), 0755), 0);
    ASSERT_EQ(::symlink(server.address().c_str(), (queue + "/private/proxymap").c_str()), 0);
    ProxyClientParams p;
    p.queue_directory = queue;
    set_proxy_client_params(p);
    DictPtr d = must_open("proxy:hash:/etc/postfix/virtual");
    ASSERT_TRUE(d);
    EXPECT_NE(d->flags() & kFixed, 0u);
    EXPECT_EQ(answer(*d, "alice"), "=alice@example.com");
    EXPECT_EQ(answer(*d, "bob"), "-");
    EXPECT_EQ(answer(*d, "busy"), "!retry");
    ::unlink((queue + "/private/proxymap").c_str());
    ::rmdir((queue + "/private").c_str());
    ::rmdir(queue.c_str());
}

}  // namespace
}  // namespace pf::dict
