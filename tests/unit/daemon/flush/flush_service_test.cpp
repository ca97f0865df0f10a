// Request dispatch of flush(8) (daemon/flush/flush_service.h): statuses
// for eligible, ineligible and broken destinations, malformed requests,
// lower-casing of sites, and the work that follows refresh and purge.
#include "daemon/flush/flush_service.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace pf::flush {
namespace {

namespace fs = std::filesystem;

class FlushServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/flush-svc-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        for (auto q : {"flush", "deferred", "incoming"}) fs::create_directory(root_ + "/" + q);
        layout_.queue_directory = root_;
    }
    void TearDown() override { fs::remove_all(root_); }

    mail::DomainMatch eligible(std::string_view site) {
        sites_.emplace_back(site);
        if (site == "broken.test") return mail::DomainMatch::error;
        return site.ends_with("remote.test") ? mail::DomainMatch::yes : mail::DomainMatch::no;
    }
    std::string read(const std::string& rel) {
        std::ifstream f(root_ + "/" + rel);
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }

    std::string root_;
    queue::QueueLayout layout_;
    std::string triggers_;
    std::vector<std::string> sites_;
};

TEST_F(FlushServiceTest, AddChecksEligibilityAndLowerCases) {
    FlushLogs logs(layout_, false, [this](std::string_view b) { triggers_ += b; });
    FlushService svc(logs, [this](std::string_view s) { return eligible(s); }, FlushTimes{});
    auto out = svc.handle({{"request", "add"}, {"site", "Sub.Remote.TEST"}, {"queue_id", "E47D0A960FB"}});
    EXPECT_EQ(out.status, ipc::FlushStatus::kOk);
    EXPECT_FALSE(out.refresh_max_age);
    EXPECT_EQ(sites_.back(), "sub.remote.test");
    EXPECT_EQ(read("flush/sub_remote_test"), "E47D0A960FB\n");
    EXPECT_EQ(svc.handle({{"request", "add"}, {"site", "other.test"}, {"queue_id", "E47D0A960FB"}}).status,
              ipc::FlushStatus::kUnknown);
    EXPECT_EQ(svc.handle({{"request", "add"}, {"site", "broken.test"}, {"queue_id", "E47D0A960FB"}}).status,
              ipc::FlushStatus::kFail);
    EXPECT_FALSE(fs::exists(root_ + "/flush/other_test"));
}

TEST_F(FlushServiceTest, MalformedRequestsAreBad) {
    FlushLogs logs(layout_, false, [this](std::string_view b) { triggers_ += b; });
    FlushService svc(logs, [this](std::string_view s) { return eligible(s); }, FlushTimes{});
    EXPECT_EQ(svc.handle({{"request", "nonsense"}}).status, ipc::FlushStatus::kBad);
    EXPECT_EQ(svc.handle({}).status, ipc::FlushStatus::kBad);
    EXPECT_EQ(svc.handle({{"request", "add"}, {"site", "remote.test"}}).status, ipc::FlushStatus::kBad);
    EXPECT_EQ(svc.handle({{"request", "add"}, {"site", "remote.test"}, {"queue_id", "a/b"}}).status,
              ipc::FlushStatus::kBad);
    EXPECT_EQ(svc.handle({{"request", "send_site"}}).status, ipc::FlushStatus::kBad);
    EXPECT_EQ(svc.handle({{"request", "send_file"}}).status, ipc::FlushStatus::kBad);
    EXPECT_EQ(svc.handle({{"request", "send_file"}, {"queue_id", ""}}).status, ipc::FlushStatus::kBad);
    // A site whose file name would be too long.
    std::string long_site = std::string(300, 'a') + ".remote.test";
    EXPECT_EQ(svc.handle({{"request", "send_site"}, {"site", long_site}}).status, ipc::FlushStatus::kBad);
    EXPECT_TRUE(triggers_.empty());
}

TEST_F(FlushServiceTest, SendSiteAndSendFile) {
    FlushLogs logs(layout_, false, [this](std::string_view b) { triggers_ += b; });
    FlushService svc(logs, [this](std::string_view s) { return eligible(s); }, FlushTimes{});
    EXPECT_EQ(svc.handle({{"request", "send_site"}, {"site", "other.test"}}).status, ipc::FlushStatus::kUnknown);
    std::ofstream(root_ + "/flush/remote_test") << "E47D0A960FB\n";
    std::ofstream(root_ + "/deferred/E47D0A960FB") << "x";
    fs::permissions(root_ + "/deferred/E47D0A960FB", fs::perms::owner_all);
    EXPECT_EQ(svc.handle({{"request", "send_site"}, {"site", "REMOTE.test"}}).status, ipc::FlushStatus::kOk);
    EXPECT_TRUE(fs::exists(root_ + "/incoming/E47D0A960FB"));
    EXPECT_EQ(triggers_, "FI");
    EXPECT_EQ(svc.handle({{"request", "send_file"}, {"queue_id", "0123456789"}}).status, ipc::FlushStatus::kOk);
}

TEST_F(FlushServiceTest, RefreshAndPurgeAnswerFirstAndWorkAfter) {
    FlushLogs logs(layout_, false, [this](std::string_view b) { triggers_ += b; });
    FlushTimes times{3600, 86400};
    FlushService svc(logs, [this](std::string_view s) { return eligible(s); }, times);
    auto refresh = svc.handle({{"request", "refresh"}});
    EXPECT_EQ(refresh.status, ipc::FlushStatus::kOk);
    EXPECT_EQ(refresh.refresh_max_age, 3600);
    auto purge = svc.handle({{"request", "purge"}});
    EXPECT_EQ(purge.status, ipc::FlushStatus::kOk);
    EXPECT_EQ(purge.refresh_max_age, 0);
    EXPECT_EQ(svc.wakeup().refresh_max_age, 3600);
    EXPECT_TRUE(sites_.empty());
}

}  // namespace
}  // namespace pf::flush
