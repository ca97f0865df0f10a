// The fast-flush client (ipc/flush_client.h): the client-side policy of
// the reference (ineligible sites and an empty fast_flush_domains never
// reach the service; parent-domain matching), the requests it sends, and
// how it reads the service's answers, against a fake public/flush socket.
#include "ipc/flush_client.h"

#include "config/config.h"
#include "ipc/attr.h"
#include "ipc/deliver_completion.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace pf::ipc {
namespace {

namespace fs = std::filesystem;

class FlushClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/flush-clnt-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        fs::create_directory(root_ + "/public");
        config_.set_override("queue_directory", root_);
        config_.set_override("fast_flush_domains", "remote.test");
        config_.set_override("ipc_timeout", "10s");
    }
    void TearDown() override {
        if (server_.joinable()) server_.join();
        if (listen_fd_ >= 0) ::close(listen_fd_);
        fs::remove_all(root_);
    }

    // Serves `count` connections on public/flush, answering each request
    // with the next reply text (raw bytes, so bad replies can be sent).
    void serve(std::vector<std::string> replies) {
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
        ASSERT_GE(listen_fd_, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::string path = root_ + "/public/flush";
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        ASSERT_EQ(::listen(listen_fd_, 8), 0);
        server_ = std::thread([this, replies = std::move(replies)] {
            for (const auto& reply : replies) {
                int fd = ::accept(listen_fd_, nullptr, nullptr);
                if (fd < 0) return;
                std::string buffer;
                auto got = receive_attrs(fd, buffer, 10);
                if (got) requests_.push_back(*got);
                (void)!::write(fd, reply.data(), reply.size());
                ::close(fd);
            }
        });
    }

    std::string root_;
    config::Config config_{"/nonexistent-pf-flush-config"};
    int listen_fd_ = -1;
    std::thread server_;
    std::vector<AttrList> requests_;
};

TEST_F(FlushClientTest, IneligibleSitesNeverReachTheService) {
    // No socket exists: asking the service would fail.
    EXPECT_EQ(flush_add(config_, "other.test", "E47D0A960FB"), FlushStatus::kUnknown);
    EXPECT_EQ(flush_send_site(config_, "example.com"), FlushStatus::kUnknown);
    EXPECT_EQ(flush_add(config_, "remote.test", "E47D0A960FB"), FlushStatus::kFail);
    // fast_flush_domains is in parent_domain_matches_subdomains by default.
    EXPECT_EQ(flush_send_site(config_, "Sub.Remote.Test"), FlushStatus::kFail);
    config_.set_override("parent_domain_matches_subdomains", "");
    EXPECT_EQ(flush_send_site(config_, "sub.remote.test"), FlushStatus::kUnknown);
    EXPECT_EQ(flush_send_site(config_, ".remote.test"), FlushStatus::kUnknown);
}

TEST_F(FlushClientTest, EmptyDomainListTurnsTheServiceOff) {
    config_.set_override("fast_flush_domains", "");
    EXPECT_EQ(flush_add(config_, "remote.test", "E47D0A960FB"), FlushStatus::kUnknown);
    EXPECT_EQ(flush_refresh(config_), FlushStatus::kUnknown);
    EXPECT_EQ(flush_purge(config_), FlushStatus::kUnknown);
    // send_file does not depend on the list.
    EXPECT_EQ(flush_send_file(config_, "E47D0A960FB"), FlushStatus::kFail);
}

TEST_F(FlushClientTest, UnusableTableIsAFailureNotIneligible) {
    std::vector<std::string> warnings;
    util::msg_set_sink([&](util::MsgLevel level, std::string_view text) {
        if (level == util::MsgLevel::warning) warnings.emplace_back(text);
    });
    util::msg_set_stderr(false);
    // A missing table opens as a surrogate whose every lookup fails (with
    // the dictionary layer's warnings): "try again", never "not eligible".
    config_.set_override("fast_flush_domains", "hash:" + root_ + "/missing");
    flush_init(config_);
    EXPECT_EQ(flush_add(config_, "remote.test", "E47D0A960FB"), FlushStatus::kFail);
    EXPECT_EQ(flush_send_site(config_, "other.test"), FlushStatus::kFail);
    EXPECT_FALSE(warnings.empty());
    util::msg_set_sink({});
    util::msg_set_stderr(true);
}

TEST_F(FlushClientTest, RequestsAndReplies) {
    serve({"status=0\n\n", "status=0\n\n", "status=2\n\n", "status=0\n\n", "status=0\n\n"});
    EXPECT_EQ(flush_add(config_, "Sub.Remote.test", "E47D0A960FB"), FlushStatus::kOk);
    EXPECT_EQ(flush_send_site(config_, "remote.test"), FlushStatus::kOk);
    EXPECT_EQ(flush_send_file(config_, "E47D0A960FB"), FlushStatus::kBad);
    EXPECT_EQ(flush_refresh(config_), FlushStatus::kOk);
    EXPECT_EQ(flush_purge(config_), FlushStatus::kOk);
    server_.join();
    ASSERT_EQ(requests_.size(), 5u);
    EXPECT_EQ(requests_[0].get_or("request", ""), "add");
    EXPECT_EQ(requests_[0].get_or("site", ""), "Sub.Remote.test");
    EXPECT_EQ(requests_[0].get_or("queue_id", ""), "E47D0A960FB");
    EXPECT_EQ(requests_[1].get_or("request", ""), "send_site");
    EXPECT_EQ(requests_[1].get_or("site", ""), "remote.test");
    EXPECT_EQ(requests_[2].get_or("request", ""), "send_file");
    EXPECT_EQ(requests_[2].get_or("queue_id", ""), "E47D0A960FB");
    EXPECT_EQ(requests_[3].get_or("request", ""), "refresh");
    EXPECT_EQ(requests_[4].get_or("request", ""), "purge");
}

TEST_F(FlushClientTest, NonsenseRepliesAreFailures) {
    serve({"status=99\n\n", "nothing=1\n\n", "status=x\n\n", ""});
    EXPECT_EQ(flush_send_file(config_, "E47D0A960FB"), FlushStatus::kFail);
    EXPECT_EQ(flush_send_file(config_, "E47D0A960FB"), FlushStatus::kFail);
    EXPECT_EQ(flush_send_file(config_, "E47D0A960FB"), FlushStatus::kFail);
    EXPECT_EQ(flush_send_file(config_, "E47D0A960FB"), FlushStatus::kFail);
}

// Below compatibility level 2, with neither relay_domains nor
// fast_flush_domains set, $mydestination is eligible and each use is noted.
TEST(FlushClientCompat, BackwardsCompatibleDefaultIsNoted) {
    std::vector<std::string> infos;
    util::msg_set_sink([&](util::MsgLevel level, std::string_view text) {
        if (level == util::MsgLevel::info) infos.emplace_back(text);
    });
    util::msg_set_stderr(false);
    {
        config::Config cfg("/nonexistent-pf-flush-config");
        cfg.set_override("queue_directory", "/nonexistent-pf-flush-queue");
        cfg.set_override("compatibility_level", "0");
        cfg.set_override("mydestination", "remote.test");
        EXPECT_EQ(flush_add(cfg, "remote.test", "E47D0A960FB"), FlushStatus::kFail);
        EXPECT_EQ(flush_send_site(cfg, "Remote.Test"), FlushStatus::kFail);
        EXPECT_EQ(flush_send_site(cfg, "other.test"), FlushStatus::kUnknown);
        ASSERT_EQ(infos.size(), 2u);
        EXPECT_EQ(infos[0], "using backwards-compatible default setting relay_domains=$mydestination to update "
                            "fast-flush logfile for domain \"remote.test\"");
        EXPECT_EQ(infos[1], "using backwards-compatible default setting relay_domains=$mydestination to flush mail "
                            "for domain \"Remote.Test\"");
        infos.clear();
        cfg.set_override("relay_domains", "remote.test");
        EXPECT_EQ(flush_add(cfg, "remote.test", "E47D0A960FB"), FlushStatus::kFail);
        cfg.set_override("compatibility_level", "3.6");
        cfg.set_override("fast_flush_domains", "$mydestination");
        EXPECT_EQ(flush_add(cfg, "remote.test", "E47D0A960FB"), FlushStatus::kFail);
        EXPECT_TRUE(infos.empty());
    }
    util::msg_set_sink({});
    util::msg_set_stderr(true);
}

// Agents tell the flush service about each deferred recipient's domain
// (the reference's defer_append), after logging; bounces and deliveries
// do not, nor do addresses without a domain.
TEST(DeliverCompletionFlush, DeferAddsTheRecipientDomain) {
    DeliveryAgentSettings settings;
    DeliveryRequest request;
    request.queue_id = "E47D0A960FB";
    std::vector<std::string> calls, logs, warnings;
    int answer = static_cast<int>(FlushStatus::kOk);
    DeliveryRecorder r(settings, request);
    r.set_log_sink([&](const std::string& line) { logs.push_back(line); });
    r.set_append_call([](std::string_view, unsigned, const DeliveryRecipient&, const Dsn&) { return true; });
    r.set_flush_add_call([&](std::string_view site, std::string_view id) {
        calls.push_back(std::string(site) + " " + std::string(id) + " after " + std::to_string(logs.size()));
        return answer;
    });
    util::msg_set_sink([&](util::MsgLevel level, std::string_view text) {
        if (level == util::MsgLevel::warning) warnings.emplace_back(text);
    });
    util::msg_set_stderr(false);
    DeliveryRecipient rcpt;
    rcpt.address = "u2@Sub.Remote.test";
    EXPECT_EQ(r.defer(rcpt, "none", Dsn::simple("4.3.0", "temporary failure")), -1);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0], "Sub.Remote.test E47D0A960FB after 1");
    answer = static_cast<int>(FlushStatus::kUnknown);
    r.defer(rcpt, "none", Dsn::simple("4.3.0", "temporary failure"));
    EXPECT_TRUE(warnings.empty());
    answer = static_cast<int>(FlushStatus::kFail);
    r.defer(rcpt, "none", Dsn::simple("4.3.0", "temporary failure"));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0], "E47D0A960FB: flush service failure");
    calls.clear();
    r.bounce(rcpt, "none", Dsn::simple("5.1.1", "unknown"));
    r.sent(rcpt, "none", Dsn::simple("2.0.0", "ok"));
    for (const char* addr : {"user", "user@"}) {
        rcpt.address = addr;
        r.defer(rcpt, "none", Dsn::simple("4.3.0", "temporary failure"));
    }
    EXPECT_TRUE(calls.empty());
    util::msg_set_sink({});
    util::msg_set_stderr(true);
}

}  // namespace
}  // namespace pf::ipc
