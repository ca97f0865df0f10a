// qmqpd(8)'s session (daemon/qmqpd/qmqpd_session.h) against a scripted
// client and a scripted cleanup, each on a socketpair written before the
// session runs (the socket buffers hold it: no thread, no sleep): the
// records sent to cleanup, the reply bytes and the log lines for a good
// request, VERP, a refused client, protocol errors and cleanup's verdicts.
#include "daemon/qmqpd/qmqpd_session.h"
#include "ipc/attr.h"
#include "ipc/services.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/netstring.h"
#include "util/write_all.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace pf::qmqpd {
namespace {

struct Pair {
    int a = -1, b = -1;
    Pair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) {
            a = fds[0];
            b = fds[1];
        }
    }
    ~Pair() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
    std::string drain(int fd) {
        std::string out;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
};

struct Result {
    std::string reply;
    std::vector<std::pair<char, std::string>> records;
    std::vector<std::string> log;
    bool cleanup_opened = false;
};

std::string request(std::string_view message, std::string_view sender, const std::vector<std::string>& rcpts) {
    std::string inner;
    util::netstring_append(inner, message);
    util::netstring_append(inner, sender);
    for (const auto& r : rcpts) util::netstring_append(inner, r);
    return util::netstring_encode(inner);
}

Result run(const std::string& client_bytes, unsigned verdict = 0, std::string reason = "",
           std::string clients = "127.0.0.1", bool close_client = true) {
    Result result;
    Pair client, cleanup;
    EXPECT_TRUE(util::write_all(client.b, client_bytes));
    if (close_client) ::shutdown(client.b, SHUT_WR);
    EXPECT_TRUE(ipc::send_attrs(cleanup.b, {{"status", "0"}, {"queue_id", "4QID"}}, 5));
    EXPECT_TRUE(ipc::send_attrs(cleanup.b, {{"status", std::to_string(verdict)}, {"reason", reason}}, 5));
    Settings settings;
    settings.error_delay = 0;
    settings.timeout = 5;
    settings.myhostname = "mail.example.com";
    settings.clients = std::make_shared<mail::NamadrList>("qmqpd_authorized_clients", clients, false);
    Peer peer;
    peer.name = "localhost";
    peer.addr = peer.rfc_addr = "127.0.0.1";
    peer.port = "4711";
    peer.family = 2;
    peer.namaddr = "localhost[127.0.0.1]";
    util::msg_set_stderr(false);
    util::msg_set_sink([&](util::MsgLevel level, std::string_view text) {
        result.log.push_back((level == util::MsgLevel::warning ? "warning: " : "") + std::string(text));
    });
    int cleanup_fd = cleanup.a;
    cleanup.a = -1;
    run_session(client.a, peer, settings, [&](unsigned flags) {
        result.cleanup_opened = true;
        return ipc::CleanupClient::attach(ipc::ServiceConnection(cleanup_fd), flags, 5);
    });
    util::msg_set_sink(nullptr);
    util::msg_set_stderr(true);  // as the other tests expect it
    if (!result.cleanup_opened) ::close(cleanup_fd);
    ::close(client.a);
    client.a = -1;
    result.reply = client.drain(client.b);
    std::string wire = cleanup.drain(cleanup.b);
    std::size_t used = 0;
    if (result.cleanup_opened && ipc::decode_attrs(wire, used)) {
        std::string_view rest = std::string_view(wire).substr(used);
        while (!rest.empty()) {
            std::size_t n = 0;
            auto r = queue::decode_record(rest, 1 << 20, n);
            if (!r) break;
            result.records.emplace_back(r->type, r->data);
            rest.remove_prefix(n);
        }
    }
    return result;
}

std::vector<char> types(const Result& r) {
    std::vector<char> out;
    for (const auto& [t, d] : r.records) out.push_back(t);
    return out;
}

TEST(QmqpdSession, GoodRequest) {
    auto r = run(request("Subject: x\n\nbody\n", "a@example.org", {"b@example.com"}));
    EXPECT_EQ(r.reply, util::netstring_encode("KOk: queued as 4QID"));
    EXPECT_EQ(types(r), (std::vector<char>{'T', 'S', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'R', 'M', 'N',
                                           'N', 'N', 'N', 'N', 'N', 'X', 'E'}));
    EXPECT_EQ(r.records[1].second, "a@example.org");
    EXPECT_EQ(r.records[2].second, "log_client_name=localhost");
    EXPECT_EQ(r.records[11].second, "protocol_name=QMQP");
    EXPECT_EQ(r.records[12].second, "b@example.com");
    EXPECT_EQ(r.records[14].second, "Received: from localhost (localhost [127.0.0.1])");
    EXPECT_EQ(r.records[15].second, "\tby mail.example.com (Postfix) with QMQP id 4QID");
    EXPECT_EQ(r.records[17].second, "Subject: x");
    EXPECT_EQ(r.log, (std::vector<std::string>{"4QID: client=localhost[127.0.0.1]"}));
}

TEST(QmqpdSession, Verp) {
    auto r = run(request("x\n", "list-@example.org-@[]", {"b@example.com", "c@example.com"}));
    EXPECT_EQ(r.reply, util::netstring_encode("KOk: queued as 4QID"));
    ASSERT_GE(r.records.size(), 3u);
    EXPECT_EQ(r.records[1], (std::pair<char, std::string>{'S', "list@example.org"}));
    EXPECT_EQ(r.records[2], (std::pair<char, std::string>{'V', "-="}));
}

TEST(QmqpdSession, NotAuthorized) {
    auto r = run(request("x\n", "a@b", {"c@d"}), 0, "", "192.0.2.1");
    EXPECT_FALSE(r.cleanup_opened);
    EXPECT_EQ(r.reply, util::netstring_encode("DError: localhost[127.0.0.1] is not authorized to use this service"));
    EXPECT_TRUE(r.log.empty());
}

TEST(QmqpdSession, FormatErrors) {
    auto r = run("x");
    EXPECT_EQ(r.reply, util::netstring_encode("Dnetstring format error while receiving QMQP packet header"));
    EXPECT_EQ(r.log.back(), "4QID: localhost[127.0.0.1]: netstring format error while receiving QMQP packet header");
    // Aborted: no E record reaches cleanup.
    EXPECT_EQ(types(r), (std::vector<char>{'T'}));
    r = run("30:5:hello,3:a@b,3:c@d;");
    EXPECT_EQ(r.reply, util::netstring_encode("Dnetstring format error while receiving recipient address"));
}

TEST(QmqpdSession, LostConnectionAndSize) {
    auto r = run(util::netstring_encode("5:hello"));
    EXPECT_EQ(r.reply, "");
    EXPECT_EQ(r.log.back(), "4QID: localhost[127.0.0.1]: lost connection while receiving sender address");
    r = run("99999999999999999999999:");
    EXPECT_EQ(r.reply, util::netstring_encode("Dnetstring length exceeds storage limit while receiving QMQP packet header"));
}

TEST(QmqpdSession, CleanupVerdicts) {
    auto r = run(request("x\n", "a@b", {}), ipc::kCleanupStatRcpt);
    EXPECT_EQ(r.reply, util::netstring_encode("DError: no recipients specified"));
    EXPECT_EQ(r.log.back(), "warning: 4QID: localhost[127.0.0.1]: Error: no recipients specified");
    r = run(request("x\n", "a@b", {"c@d"}), ipc::kCleanupStatCont, "4.7.1 later");
    EXPECT_EQ(r.reply, util::netstring_encode("ZError: 4.7.1 later"));
    r = run(request("x\n", "a@b", {"c@d"}), ipc::kCleanupStatCont, "5.7.1 no");
    EXPECT_EQ(r.reply, util::netstring_encode("DError: 5.7.1 no"));
    r = run(request("x\n", "a@b", {"c@d"}), ipc::kCleanupStatSize);
    EXPECT_EQ(r.reply, util::netstring_encode("DError: message too large"));
}

}  // namespace
}  // namespace pf::qmqpd
