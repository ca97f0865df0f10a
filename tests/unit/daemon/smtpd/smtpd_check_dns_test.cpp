// Unit tests of smtpd's DNS-based restrictions (smtpd_check_rbl.cpp, the
// MX/NS server checks of smtpd_check_access.cpp) with a fake resolver that
// counts queries: the DNS list cache (an answer, and a lookup failure with
// its warning, are kept for the process), " / " between TXT records, and
// the wording of NS/MX lookup failures. compat-suite/smtpd-dns compares the
// same behaviour with the reference against a real test DNS server.
#include "smtpd_check_fixture.h"

#include "ipc/services.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pf::smtpd {
namespace {

using DnsAnswer = CheckServices::DnsAnswer;
using DnsStatus = DnsAnswer::Status;

class SmtpdCheckDnsTest : public SmtpdCheckFixture {
protected:
    CheckServices services() override {
        CheckServices svc;
        svc.resolve = [](std::string_view, std::string_view address) -> std::optional<CheckServices::Resolved> {
            std::string addr(address);
            CheckServices::Resolved r;
            r.recipient = addr;
            r.flags = addr.ends_with("@local.test") ? ipc::kResolveClassLocal | ipc::kResolveFinal
                                                    : ipc::kResolveClassDefault;
            r.transport = "smtp";
            return r;
        };
        svc.dns = [this](std::string_view name, std::string_view type) {
            std::string key = std::string(type) + " " + std::string(name);
            ++queries_[key];
            auto it = dns_.find(key);
            if (it != dns_.end()) return it->second;
            DnsAnswer a;
            a.status = DnsStatus::nxdomain;
            return a;
        };
        svc.sleep = [](int) {};
        return svc;
    }

    void answer(const std::string& type, const std::string& name, DnsStatus status,
                std::vector<std::string> values = {}) {
        DnsAnswer a;
        a.status = status;
        a.values = std::move(values);
        dns_[type + " " + name] = a;
    }

    std::map<std::string, DnsAnswer> dns_;
    std::map<std::string, int> queries_;
};

TEST_F(SmtpdCheckDnsTest, RblTxtRecordsAreJoined) {
    set("smtpd_client_restrictions", "reject_rbl_client bl.test");
    answer("A", "1.2.0.192.bl.test", DnsStatus::ok, {"127.0.0.2", "127.0.0.10"});
    answer("TXT", "1.2.0.192.bl.test", DnsStatus::ok, {"first", "second"});
    EXPECT_EQ(rcpt("u@local.test").reply,
              "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.test; first / second");
}

TEST_F(SmtpdCheckDnsTest, RblReasonIsCutAtFiveHundredCharacters) {
    set("smtpd_client_restrictions", "reject_rbl_client bl.test");
    set("default_rbl_reply", "$rbl_code 5.7.1 $rbl_reason");
    answer("A", "1.2.0.192.bl.test", DnsStatus::ok, {"127.0.0.2"});
    answer("TXT", "1.2.0.192.bl.test", DnsStatus::ok, {std::string(300, 'a'), std::string(300, 'b')});
    EXPECT_EQ(rcpt("u@local.test").reply,
              "554 5.7.1 " + std::string(300, 'a') + " / " + std::string(197, 'b'));
}

TEST_F(SmtpdCheckDnsTest, RblAnswersAreCachedAcrossSessions) {
    set("smtpd_client_restrictions", "reject_rbl_client bl.test");
    answer("A", "1.2.0.192.bl.test", DnsStatus::ok, {"127.0.0.2"});
    EXPECT_NE(rcpt("u@local.test").reply, "");
    check().end_session();
    check().begin_session();
    EXPECT_NE(rcpt("u@local.test").reply, "");
    EXPECT_EQ(queries_["A 1.2.0.192.bl.test"], 1);
    EXPECT_EQ(queries_["TXT 1.2.0.192.bl.test"], 1);
}

TEST_F(SmtpdCheckDnsTest, RblFilterAppliesToCachedAnswer) {
    set("smtpd_client_restrictions", "reject_rbl_client bl.test=127.0.0.3, reject_rbl_client bl.test=127.0.0.2");
    answer("A", "1.2.0.192.bl.test", DnsStatus::ok, {"127.0.0.2"});
    EXPECT_EQ(rcpt("u@local.test").reply,
              "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.test");
    EXPECT_EQ(queries_["A 1.2.0.192.bl.test"], 1);
}

TEST_F(SmtpdCheckDnsTest, RblLookupErrorIsCachedAndNotAListing) {
    set("smtpd_client_restrictions", "reject_rbl_client bl.test");
    answer("A", "1.2.0.192.bl.test", DnsStatus::temp_fail);
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    EXPECT_EQ(queries_["A 1.2.0.192.bl.test"], 1);
}

TEST_F(SmtpdCheckDnsTest, RblCacheForgetsTheOldestAfterHundredNames) {
    set("smtpd_client_restrictions", "reject_rbl_client bl.test");
    for (int i = 0; i <= 100; ++i) {
        state_.client_addr = "192.0.2." + std::to_string(i + 1);
        EXPECT_EQ(rcpt("u@local.test").reply, "");
    }
    state_.client_addr = "192.0.2.1";
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    EXPECT_EQ(queries_["A 1.2.0.192.bl.test"], 2);
    state_.client_addr = "192.0.2.101";
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    EXPECT_EQ(queries_["A 101.2.0.192.bl.test"], 1);
}

TEST_F(SmtpdCheckDnsTest, NsWalkUpFindsParentServers) {
    set("smtpd_sender_restrictions", "check_sender_ns_access inline:{{ns.bad.test=REJECT bad ns}}");
    answer("NS", "sub.bad.test", DnsStatus::not_found);
    answer("NS", "bad.test", DnsStatus::ok, {"ns.bad.test"});
    state_.sender = "x@sub.bad.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <x@sub.bad.test>: Sender address rejected: bad ns");
}

TEST_F(SmtpdCheckDnsTest, NsAndMxFailuresAreHarmless) {
    set("smtpd_sender_restrictions",
        "check_sender_ns_access inline:{x=REJECT}, check_sender_mx_access inline:{x=REJECT}");
    answer("NS", "tmp.test", DnsStatus::temp_fail);
    answer("MX", "tmp.test", DnsStatus::temp_fail);
    answer("NS", "none.test", DnsStatus::not_found);
    answer("NS", "test", DnsStatus::nxdomain);
    answer("MX", "none.test", DnsStatus::not_found);
    answer("ADDR", "none.test", DnsStatus::not_found);
    state_.sender = "x@tmp.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    state_.sender = "x@none.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    EXPECT_EQ(queries_["NS test"], 1);         // walked up to the top
    EXPECT_EQ(queries_["ADDR none.test"], 1);  // no MX: the domain itself
}

}  // namespace
}  // namespace pf::smtpd
