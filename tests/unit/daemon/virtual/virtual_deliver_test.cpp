// Unit tests of virtual(8)'s per-recipient delivery (daemon/virtual/
// virtual_deliver.h): table lookups (case folding, extensions, catch-all),
// the uid/gid checks and their warnings, Maildir versus mbox, probes, the
// failure prefixes and the bounce/defer choice. Mailboxes are written in a
// private temporary directory with the test's own ids; the identity
// switch is recorded instead of made.
#include "daemon/virtual/virtual_deliver.h"

#include "ipc/deliver_completion.h"
#include "queue/record.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fmt/core.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace pf;
using namespace pf::virtual_agent;
namespace fs = std::filesystem;

struct Recorded {
    std::vector<std::string> logs;
    std::vector<std::string> appends;
    std::vector<std::string> ids;
};

class VirtualDeliverTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/virtual-deliver-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        base_ = tmpl;
        queue_ = std::tmpfile();
        for (const char* line : {"Subject: hi", "", "body"}) queue::write_record(queue_, queue::rec::kNorm, line);
        queue::write_record(queue_, queue::rec::kExtracted, "");
        std::fflush(queue_);
        request_.queue_id = "ABC123";
        request_.sender = "sender@example.test";
        request_.data_offset = 0;
    }
    void TearDown() override {
        std::fclose(queue_);
        std::error_code ec;
        fs::remove_all(base_, ec);
    }
    VirtualSettings settings(const std::string& uid_map = "") {
        VirtualSettings s;
        const dict::Flags flags = dict::kLock | dict::kFoldFixed;
        std::string uid = uid_map.empty() ? fmt::format("static:{}", ::geteuid()) : uid_map;
        s.mailbox_maps = std::move(*mail::Maps::open(
            "virtual_mailbox_maps", "inline:{alice@v.test=alice/, bob@v.test=bob.mbox, @w.test=catch/}", flags));
        s.uid_maps = std::move(*mail::Maps::open("virtual_uid_maps", uid, flags));
        s.gid_maps = std::move(*mail::Maps::open("virtual_gid_maps", fmt::format("static:{}", ::getegid() ? ::getegid() : 1), flags));
        s.mailbox_base = base_;
        s.minimum_uid = 0;
        s.lock_styles = mailbox::kLockFcntl | mailbox::kLockDotlock;
        s.lock_attempts = 1;
        s.lock_delay = 0;
        s.hostname = "host";
        s.find_ctx.recipient_delimiter = "+";
        return s;
    }
    int deliver(const VirtualSettings& s, const std::string& address, Recorded& rec, unsigned flags = 0) {
        ipc::DeliveryAgentSettings agent;
        request_.flags = ipc::kDeliveryDefault | flags;
        ipc::DeliveryRecipient rcpt;
        rcpt.address = address;
        rcpt.orig_addr = address;
        ipc::DeliveryRecorder recorder(agent, request_);
        recorder.set_log_sink([&rec](const std::string& line) { rec.logs.push_back(line); });
        recorder.set_append_call(
            [&rec](std::string_view service, unsigned, const ipc::DeliveryRecipient&, const ipc::Dsn& dsn) {
                rec.appends.push_back(fmt::format("{} {} {}", service, dsn.status, dsn.reason));
                return true;
            });
        VirtualContext ctx{s, recorder, "virtual", 4242, 4343, {}};
        ctx.set_identity = [&rec](uid_t u, gid_t g) { rec.ids.push_back(fmt::format("{}:{}", u, g)); };
        return deliver_recipient(ctx, request_, queue_, rcpt, nullptr);
    }
    std::string base_;
    std::FILE* queue_ = nullptr;
    ipc::DeliveryRequest request_;
};

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

TEST_F(VirtualDeliverTest, MaildirAndMbox) {
    auto s = settings();
    Recorded rec;
    EXPECT_EQ(deliver(s, "Alice@V.test", rec), 0);
    ASSERT_EQ(rec.logs.size(), 1u);
    EXPECT_TRUE(contains(rec.logs[0], "to=<Alice@V.test>, relay=virtual")) << rec.logs[0];
    EXPECT_TRUE(contains(rec.logs[0], "dsn=2.0.0, status=sent (delivered to maildir)")) << rec.logs[0];
    EXPECT_EQ(std::distance(fs::directory_iterator(base_ + "/alice/new"), fs::directory_iterator()), 1);
    // Switched to the recipient and back to mail_owner.
    ASSERT_EQ(rec.ids.size(), 2u);
    EXPECT_EQ(rec.ids[1], "4242:4343");

    EXPECT_EQ(deliver(s, "bob+ext@v.test", rec), 0);
    EXPECT_TRUE(contains(rec.logs.back(), "status=sent (delivered to mailbox)")) << rec.logs.back();
    std::ifstream in(base_ + "/bob.mbox");
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_TRUE(ss.str().starts_with("From sender@example.test  ")) << ss.str();
    EXPECT_TRUE(contains(ss.str(), "\nDelivered-To: bob+ext@v.test\n")) << ss.str();

    EXPECT_EQ(deliver(s, "anyone@w.test", rec), 0);
    EXPECT_TRUE(fs::exists(base_ + "/catch/new"));
}

TEST_F(VirtualDeliverTest, UnknownUserBounces) {
    auto s = settings();
    Recorded rec;
    EXPECT_EQ(deliver(s, "Nobody@V.test", rec), 0);
    ASSERT_EQ(rec.appends.size(), 1u);
    EXPECT_EQ(rec.appends[0], "bounce 5.1.1 unknown user: \"nobody@v.test\"");
    EXPECT_TRUE(contains(rec.logs.back(), "status=bounced (unknown user: \"nobody@v.test\")"));
    EXPECT_TRUE(rec.ids.empty());
}

TEST_F(VirtualDeliverTest, BadUidDefers) {
    auto s = settings("inline:{alice@v.test=12abc}");
    s.minimum_uid = 100;
    Recorded rec;
    EXPECT_EQ(deliver(s, "alice@v.test", rec), -1);
    EXPECT_EQ(rec.appends.back(), "defer 4.3.5 mail system configuration error");
    EXPECT_EQ(deliver(s, "bob@v.test", rec), -1);  // not in the uid table
    EXPECT_EQ(rec.appends.back(), "defer 4.3.5 mail system configuration error");
    EXPECT_TRUE(rec.ids.empty());
    EXPECT_FALSE(fs::exists(base_ + "/alice"));
}

TEST_F(VirtualDeliverTest, ProbesWriteNothing) {
    auto s = settings();
    Recorded rec;
    deliver(s, "alice@v.test", rec, ipc::kDeliveryUserVerify);
    deliver(s, "bob@v.test", rec, ipc::kDeliveryUserVerify);
    EXPECT_FALSE(fs::exists(base_ + "/alice"));
    EXPECT_FALSE(fs::exists(base_ + "/bob.mbox"));
    ASSERT_EQ(rec.appends.size(), 2u);
    EXPECT_TRUE(contains(rec.appends[0], "delivers to maildir")) << rec.appends[0];
    EXPECT_TRUE(contains(rec.appends[1], "delivers to mailbox")) << rec.appends[1];
}

TEST_F(VirtualDeliverTest, MboxFailuresArePrefixed) {
    auto s = settings();
    Recorded rec;
    ASSERT_EQ(::mkdir((base_ + "/bob.mbox").c_str(), 0700), 0);
    EXPECT_EQ(deliver(s, "bob@v.test", rec), -1);
    EXPECT_EQ(rec.appends.back(),
              "defer 4.2.0 delivery failed to mailbox " + base_ + "/bob.mbox: cannot open file: Is a directory");
}

}  // namespace
