// Unit tests of reject_unverified_sender / reject_unverified_recipient in
// smtpd's restriction engine (daemon/smtpd/smtpd_check_verify.cpp) with a
// fake verify service: replies, deferrals, polling and custom texts.
#include "../smtpd/smtpd_check_fixture.h"

#include "ipc/services.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>

namespace pf::smtpd {
namespace {

using VerifyResult = CheckServices::VerifyResult;

class SmtpdVerifyTest : public SmtpdCheckFixture {
protected:
    SmtpdVerifyTest() {
        set("smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destination");
        set("smtpd_recipient_restrictions", "reject_unverified_recipient");
        state_.client_name = "localhost";
        state_.reverse_name = "localhost";
        state_.client_addr = "127.0.0.1";
    }

    CheckServices services() override {
        CheckServices svc;
        svc.resolve = [](std::string_view, std::string_view address) -> std::optional<CheckServices::Resolved> {
            CheckServices::Resolved r;
            r.recipient = std::string(address);
            r.flags = ipc::kResolveClassLocal | ipc::kResolveFinal;
            r.transport = "local";
            return r;
        };
        svc.dns = [](std::string_view, std::string_view) { return CheckServices::DnsAnswer{}; };
        svc.sleep = [this](int s) { slept_ += s; };
        svc.verify = [this](std::string_view address) -> std::optional<VerifyResult> {
            queried_.emplace_back(address);
            if (answers_.empty()) return std::nullopt;
            auto a = answers_.front();
            if (answers_.size() > 1) answers_.pop_front();
            return a;
        };
        return svc;
    }

    std::deque<std::optional<VerifyResult>> answers_;
    std::vector<std::string> queried_;
    int slept_ = 0;
};

TEST_F(SmtpdVerifyTest, InProgressIsDeferredAfterPolling) {
    answers_ = {VerifyResult{3, "Address verification in progress"}};
    auto r = rcpt("u@local.test");
    EXPECT_EQ(r.reply,
              "450 4.1.1 <u@local.test>: Recipient address rejected: unverified address: Address verification in "
              "progress");
    EXPECT_EQ(queried_.size(), 3u);
    EXPECT_EQ(slept_, 6);
    ASSERT_FALSE(r.log.empty());
    EXPECT_EQ(r.log.back(),
              "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 450 4.1.1 <u@local.test>: Recipient address "
              "rejected: unverified address: Address verification in progress; from=<s@example.org> "
              "to=<u@local.test> proto=ESMTP helo=<client.example>");
}

TEST_F(SmtpdVerifyTest, DeliverableIsAcceptedAndUndeliverableRejected) {
    answers_ = {VerifyResult{3, "Address verification in progress"}, VerifyResult{0, "delivers to command: cat"}};
    auto r = rcpt("u@local.test");
    EXPECT_EQ(r.reply, "");
    EXPECT_EQ(slept_, 3);

    set("unverified_recipient_reject_code", "550");
    check_.reset();
    answers_ = {VerifyResult{2, "unknown user: \"x\""}};
    r = rcpt("x@local.test");
    EXPECT_EQ(r.reply,
              "550 5.1.1 <x@local.test>: Recipient address rejected: undeliverable address: unknown user: \"x\"");
}

TEST_F(SmtpdVerifyTest, DefaultRejectCodeDefersBouncedAddress) {
    answers_ = {VerifyResult{2, "unknown user: \"x\""}};
    auto r = rcpt("x@local.test");
    EXPECT_EQ(r.reply,
              "450 4.1.1 <x@local.test>: Recipient address rejected: unverified address: unknown user: \"x\"");
}

TEST_F(SmtpdVerifyTest, CustomReasonAndServiceFailure) {
    set("unverified_recipient_reject_reason", "Address lookup failed");
    answers_ = {VerifyResult{1, "connection refused"}};
    auto r = rcpt("x@local.test");
    EXPECT_EQ(r.reply, "450 4.1.1 <x@local.test>: Recipient address rejected: unverified address: Address lookup failed");

    check_.reset();
    answers_.clear();
    r = rcpt("y@local.test");
    EXPECT_EQ(r.reply, "450 4.1.1 <y@local.test>: Recipient address rejected: address verification problem");
}

TEST_F(SmtpdVerifyTest, SenderUses417) {
    set("smtpd_recipient_restrictions", "");
    set("smtpd_sender_restrictions", "reject_unverified_sender");
    answers_ = {VerifyResult{2, "unknown user"}};
    set("unverified_sender_reject_code", "550");
    auto r = rcpt("u@local.test");
    EXPECT_EQ(r.reply, "550 5.1.7 <s@example.org>: Sender address rejected: undeliverable address: unknown user");
    EXPECT_EQ(queried_.front(), "s@example.org");
}

}  // namespace
}  // namespace pf::smtpd
