// The cleanup client (ipc/cleanup_client.h) against a scripted server on a
// socketpair, and pickup's copy of a maildrop file through it
// (daemon/pickup/pickup_copy.h): the greeting, the flags, the record
// stream, the verdict, and what pickup does with the file for each verdict.
// The server's side is written before the client runs (the socket buffers
// it), so no thread or sleep is needed.
#include "daemon/pickup/pickup_copy.h"
#include "ipc/cleanup_client.h"
#include "ipc/services.h"
#include "queue/record.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace pf::ipc {
namespace {

struct Pair {
    int client = -1;
    int server = -1;
    Pair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) {
            client = fds[0];
            server = fds[1];
        }
    }
    ~Pair() {
        if (server >= 0) ::close(server);
    }
    void say(const AttrList& attrs) { ASSERT_TRUE(send_attrs(server, attrs, 5)); }
    // Everything the client sent, once it is gone.
    std::string heard() {
        std::string out;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(server, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
};

struct Rec {
    char type;
    std::string data;
    bool operator==(const Rec&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Rec& r) { return os << r.type << " '" << r.data << "'"; }

// Splits what the client sent into its flags message and records.
std::pair<AttrList, std::vector<Rec>> split(const std::string& wire) {
    std::size_t used = 0;
    auto flags = decode_attrs(wire, used);
    EXPECT_TRUE(flags);
    std::vector<Rec> recs;
    std::string_view rest = std::string_view(wire).substr(used);
    while (!rest.empty()) {
        std::size_t n = 0;
        auto r = queue::decode_record(rest, 1 << 20, n);
        if (!r) break;
        recs.push_back({r->type, r->data});
        rest.remove_prefix(n);
    }
    return {flags ? *flags : AttrList{}, recs};
}

TEST(CleanupClient, Conversation) {
    Pair p;
    p.say({{"status", "0"}, {"queue_id", "ABC123"}});
    p.say({{"status", "0"}, {"reason", ""}});
    {
        auto client = CleanupClient::attach(ServiceConnection(p.client), kCleanupBounce | kCleanupMapOk, 5);
        ASSERT_TRUE(client) << client.error();
        EXPECT_EQ(client->queue_id(), "ABC123");
        ASSERT_TRUE(client->write('S', "a@b"));
        ASSERT_TRUE(client->write_attr("rewrite_context", "local"));
        ASSERT_TRUE(client->write('E', ""));
        auto reply = client->finish();
        ASSERT_TRUE(reply) << reply.error();
        EXPECT_EQ(reply->status, 0u);
    }
    auto [flags, recs] = split(p.heard());
    EXPECT_EQ(flags.get_number("flags"), static_cast<long long>(kCleanupBounce | kCleanupMapOk));
    EXPECT_EQ(recs, (std::vector<Rec>{{'S', "a@b"}, {'A', "rewrite_context=local"}, {'E', ""}}));
}

// Closing without E (an aborted transaction) still sends what was
// buffered, as the reference's stream close does: cleanup sees those
// records, then the end of input.
TEST(CleanupClient, ClosingWithoutFinishSendsBufferedRecords) {
    Pair p;
    p.say({{"status", "0"}, {"queue_id", "ABC124"}});
    {
        auto client = CleanupClient::attach(ServiceConnection(p.client), 0, 5);
        ASSERT_TRUE(client) << client.error();
        ASSERT_TRUE(client->write('M', ""));
        ASSERT_TRUE(client->write('N', "Subject: partial"));
        ASSERT_TRUE(client->write('N', ""));
        // Moved-from clients send nothing twice.
        CleanupClient moved = std::move(*client);
    }
    auto [flags, recs] = split(p.heard());
    EXPECT_EQ(recs, (std::vector<Rec>{{'M', ""}, {'N', "Subject: partial"}, {'N', ""}}));
}

TEST(CleanupClient, RefusedGreeting) {
    Pair p;
    p.say({{"status", "2"}});
    auto client = CleanupClient::attach(ServiceConnection(p.client), 0, 5);
    EXPECT_FALSE(client);
}

TEST(CleanupClient, ServerGoneBeforeVerdict) {
    Pair p;
    p.say({{"status", "0"}, {"queue_id", "X1"}});
    auto client = CleanupClient::attach(ServiceConnection(p.client), 0, 5);
    ASSERT_TRUE(client);
    ::close(p.server);
    p.server = -1;
    (void)client->write('E', "");
    EXPECT_FALSE(client->finish());
}

TEST(CleanupClient, StatusTexts) {
    EXPECT_EQ(cleanup_strerror(0), "Success");
    EXPECT_EQ(cleanup_strerror(kCleanupStatWrite), "queue file write error");
    EXPECT_EQ(cleanup_strerror(kCleanupStatSize | kCleanupStatWrite), "message file too big");
    EXPECT_EQ(cleanup_strerror(kCleanupStatRcpt | kCleanupStatBad), "internal protocol error");
    EXPECT_EQ(cleanup_strerror(kCleanupStatDefer | kCleanupStatBad), "service unavailable");
}

// A maildrop file the reference's sendmail + postdrop wrote (see
// tests/unit/cmd/sendmail/sendmail_message_test.cpp).
const char kReferenceMaildrop[] =
    "T\x11" "1795838275 172910"
    "A\x10" "envelope_id=env1" "A\x15" "rewrite_context=local" "F\x04" "root" "S\x11" "alice@example.com"
    "A\x0d" "encoding=8bit" "A\x0e" "notify_flags=8" "R\x0f" "bob@example.com" "M\x00"
    "N\x0c" "Subject: ref" "N\x11" "To: x@example.com" "N\x00" "N\x05" "\tbody" "L\x06" "no eol" "N\x00"
    "X\x00" "A\x0e" "notify_flags=8" "R\x0d" "x@example.com" "E\x00";

class PickupTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/pf-pickup-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        ::setenv("TZ", "UTC", 1);
        ::tzset();
        settings_.myhostname = "host.example.com";
        settings_.cleanup_flags = pickup::pickup_cleanup_flags("");
        settings_.mail_owner_uid = 424242;
    }
    void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

    std::string put(const std::string& name, const std::string& bytes, mode_t mode) {
        std::string path = dir_ + "/" + name;
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
        ::close(fd);
        ::chmod(path.c_str(), mode);
        struct timespec times[2] = {{1795838275, 0}, {1795838275, 0}};
        ::utimensat(AT_FDCWD, path.c_str(), times, 0);
        return path;
    }

    // Runs pickup_file with a cleanup that answers status; returns the
    // flags and records it received.
    std::pair<AttrList, std::vector<Rec>> pick(const std::string& path, unsigned status,
                                               pickup::Disposition& disposition) {
        Pair p;
        p.say({{"status", "0"}, {"queue_id", "NEWID1"}});
        p.say({{"status", std::to_string(status)}, {"reason", ""}});
        int client_fd = p.client;
        pickup::CleanupOpener opener = [&](unsigned flags) {
            return CleanupClient::attach(ServiceConnection(client_fd), flags, 5);
        };
        struct stat st;
        EXPECT_EQ(::lstat(path.c_str(), &st), 0);
        disposition = pickup::pickup_file(path, st, settings_, opener, 1795838275);
        return split(p.heard());
    }

    std::string dir_;
    pickup::PickupSettings settings_;
};

TEST_F(PickupTest, CopiesAReferenceMaildropFile) {
    std::string path = put("ABCDEF12345", std::string(kReferenceMaildrop, sizeof kReferenceMaildrop - 1), 0744);
    pickup::Disposition d;
    auto [flags, recs] = pick(path, 0, d);
    EXPECT_EQ(d, pickup::Disposition::remove);
    EXPECT_EQ(flags.get_number("flags"),
              static_cast<long long>(kCleanupBounce | kCleanupFilter | kCleanupMilter | kCleanupBccOk | kCleanupMapOk));
    std::vector<Rec> want{
        {'T', "1795838275 172910"}, {'A', "envelope_id=env1"}, {'A', "rewrite_context=local"}, {'F', "root"},
        {'S', "alice@example.com"}, {'A', "encoding=8bit"}, {'A', "notify_flags=8"}, {'R', "bob@example.com"},
        {'M', ""},
        {'N', "Received: by host.example.com (Postfix, from userid " + std::to_string(::getuid()) + ")"},
        {'N', "\tid NEWID1; Sat, 28 Nov 2026 03:57:55 +0000 (UTC)"},
        {'N', "Subject: ref"}, {'N', "To: x@example.com"}, {'N', ""}, {'N', "\tbody"}, {'L', "no eol"}, {'N', ""},
        {'X', ""}, {'A', "notify_flags=8"}, {'R', "x@example.com"}, {'E', ""}};
    EXPECT_EQ(recs, want);
}

TEST_F(PickupTest, TimeFromMtimeWhenMissingAndBlankFirstLine) {
    std::string file;
    queue::append_record(file, 'S', "s@x");
    queue::append_record(file, 'R', "r@x");
    queue::append_record(file, 'M', "");
    queue::append_record(file, 'N', " starts with a blank");
    queue::append_record(file, 'X', "");
    queue::append_record(file, 'r', "dropped");
    queue::append_record(file, 'A', "header_action=dropped");
    queue::append_record(file, 'E', "");
    std::string path = put("BCDEF123456", file, 0744);
    pickup::Disposition d;
    auto [flags, recs] = pick(path, 0, d);
    ASSERT_GE(recs.size(), 7u);
    EXPECT_EQ(recs[0], (Rec{'T', "1795838275"}));
    EXPECT_EQ(recs[1], (Rec{'S', "s@x"}));
    EXPECT_EQ(recs[6], (Rec{'N', ""}));
    EXPECT_EQ(recs[7], (Rec{'N', " starts with a blank"}));
    EXPECT_EQ(recs.back(), (Rec{'E', ""}));
    EXPECT_EQ(recs[recs.size() - 2], (Rec{'X', ""}));
}

TEST_F(PickupTest, NoSenderIsRemoved) {
    std::string file;
    queue::append_record(file, 'R', "r@x");
    queue::append_record(file, 'M', "");
    std::string path = put("CDEF1234567", file, 0744);
    pickup::Disposition d;
    pick(path, 0, d);
    EXPECT_EQ(d, pickup::Disposition::remove);
}

TEST_F(PickupTest, BadRecordIsRemoved) {
    std::string file;
    queue::append_record(file, 'S', "s@x");
    queue::append_record(file, 'Q', "what");
    std::string path = put("DEF12345678", file, 0744);
    pickup::Disposition d;
    pick(path, 0, d);
    EXPECT_EQ(d, pickup::Disposition::remove);
}

TEST_F(PickupTest, VerdictDecidesRemoveOrKeep) {
    std::string bytes(kReferenceMaildrop, sizeof kReferenceMaildrop - 1);
    pickup::Disposition d;
    pick(put("EF123456789", bytes, 0744), kCleanupStatWrite, d);
    EXPECT_EQ(d, pickup::Disposition::keep);
    pick(put("F1234567890", bytes, 0744), kCleanupStatRcpt, d);
    EXPECT_EQ(d, pickup::Disposition::remove);
    pick(put("F1234567891", bytes, 0744), kCleanupStatBad, d);
    EXPECT_EQ(d, pickup::Disposition::remove);
}

TEST_F(PickupTest, ScanSkipsFilesNotReady) {
    std::string bytes(kReferenceMaildrop, sizeof kReferenceMaildrop - 1);
    std::string writing = put("AAAAA123456", bytes, 0644);
    std::string junk = put("not-an-id", bytes, 0744);
    int opened = 0;
    pickup::CleanupOpener opener = [&](unsigned) -> std::expected<CleanupClient, std::string> {
        ++opened;
        return std::unexpected(std::string("no cleanup in this test"));
    };
    EXPECT_EQ(pickup::pickup_scan(dir_, settings_, opener), 0);
    EXPECT_EQ(opened, 0);
    struct stat st;
    EXPECT_EQ(::stat(writing.c_str(), &st), 0);
    EXPECT_EQ(::stat(junk.c_str(), &st), 0);
}

TEST(PickupFlags, ReceiveOverrideOptions) {
    unsigned all = kCleanupBounce | kCleanupFilter | kCleanupMilter | kCleanupBccOk | kCleanupMapOk;
    EXPECT_EQ(pickup::pickup_cleanup_flags(""), all);
    EXPECT_EQ(pickup::pickup_cleanup_flags("no_header_body_checks, no_milters"),
              all & ~(kCleanupFilter | kCleanupMilter));
    EXPECT_EQ(pickup::pickup_cleanup_flags("no_address_mappings"), all & ~(kCleanupMapOk | kCleanupBccOk));
}

}  // namespace
}  // namespace pf::ipc
