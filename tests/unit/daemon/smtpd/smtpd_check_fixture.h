// The base of the unit tests of smtpd's restriction engine
// (smtpd_check_test, smtpd_check_dns_test, verify/smtpd_verify_test): a
// configuration with local.test as the only local domain and 127.0.0.0/8 as
// mynetworks, one ESMTP client unknown[192.0.2.1] that said HELO
// client.example and MAIL FROM:<s@example.org>, and the engine built on
// first use from the fake services the test fixture provides. A fixture
// changes settings in its constructor or with set(), and drops check_ to
// have the engine built again with the new settings.
#pragma once

#include "daemon/smtpd/smtpd_check.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace pf::smtpd {

class SmtpdCheckFixture : public ::testing::Test {
protected:
    SmtpdCheckFixture() : config_("/nonexistent") {
        set("mynetworks", "127.0.0.0/8");
        set("mydestination", "local.test");
        set("myorigin", "local.test");
        set("local_recipient_maps", "");
        set("compatibility_level", "3.6");
        state_.client_name = "unknown";
        state_.reverse_name = "unknown";
        state_.client_addr = "192.0.2.1";
        state_.client_port = "4711";
        state_.protocol = "ESMTP";
        state_.helo_name = "client.example";
        state_.has_sender = true;
        state_.sender = "s@example.org";
    }

    void set(const std::string& name, const std::string& value) { config_.set_override(name, value); }

    // The fake trivial-rewrite, DNS, policy and verify services.
    virtual CheckServices services() = 0;

    SmtpdCheck& check() {
        if (!check_) {
            check_ = std::make_unique<SmtpdCheck>(config_, services());
            check_->begin_session();
        }
        return *check_;
    }

    CheckResult rcpt(const std::string& recipient) {
        state_.recipient = recipient;
        return check().check_rcpt(state_);
    }

    config::Config config_;
    CheckState state_;
    std::unique_ptr<SmtpdCheck> check_;
};

}  // namespace pf::smtpd
