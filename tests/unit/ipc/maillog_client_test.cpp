// The reference's maillog line format, facility names and log idents
// (ipc/maillog_client.h), and the msg sink they hang on (util/msg.h).
#include "ipc/maillog_client.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <syslog.h>

namespace pf::ipc {
namespace {

TEST(MaillogClientTest, LineFormatHasZeroPaddedDayAndPid) {
    const char* old = std::getenv("TZ");
    std::string saved = old ? old : "";
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    EXPECT_EQ(maillog_format_line(0, "box", "postfix/master", 42, "daemon started"),
              "Jan 01 00:00:00 box postfix/master[42]: daemon started");
    EXPECT_EQ(maillog_format_line(5 * 86400 + 3661, "h", "postfix/submission/smtpd", 7, "warning: x"),
              "Jan 06 01:01:01 h postfix/submission/smtpd[7]: warning: x");
    if (old) ::setenv("TZ", saved.c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
}

TEST(MaillogClientTest, FacilityNames) {
    EXPECT_EQ(syslog_facility_code("mail"), LOG_MAIL);
    EXPECT_EQ(syslog_facility_code("local7"), LOG_LOCAL7);
    EXPECT_EQ(syslog_facility_code("auth"), LOG_AUTH);
    EXPECT_EQ(syslog_facility_code("nonsense"), -1);
}

TEST(MaillogClientTest, MailTask) {
    config::Config cfg("/nonexistent-pf-config");
    EXPECT_EQ(mail_task(cfg, "smtpd"), "postfix/smtpd");
    EXPECT_EQ(mail_task(cfg, "postfix"), "postfix");
    cfg.set_override("syslog_name", "postfix/submission");
    EXPECT_EQ(mail_task(cfg, "smtpd"), "postfix/submission/smtpd");
}

TEST(MsgSinkTest, SinkGetsLevelAndPrintableText) {
    std::vector<std::pair<util::MsgLevel, std::string>> got;
    util::msg_set_sink([&](util::MsgLevel level, std::string_view text) { got.emplace_back(level, std::string(text)); });
    util::msg_set_stderr(false);
    util::msg_warn("bad {}", "peer\x01");
    util::msg_info("hello");
    util::msg_error("oops");
    util::msg_set_sink({});
    util::msg_set_stderr(true);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].first, util::MsgLevel::warning);
    EXPECT_EQ(got[0].second, "bad peer?");
    EXPECT_EQ(got[1].first, util::MsgLevel::info);
    EXPECT_EQ(got[2].first, util::MsgLevel::error);
}

}  // namespace
}  // namespace pf::ipc
