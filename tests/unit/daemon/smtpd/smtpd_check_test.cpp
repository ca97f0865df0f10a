// Unit tests of smtpd's restriction engine (daemon/smtpd/smtpd_check*):
// replies and log lines as the reference words them, for each restriction
// family, with a fake trivial-rewrite, DNS and policy server.
#include "smtpd_check_fixture.h"

#include "ipc/services.h"
#include "util/msg.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace pf::smtpd {
namespace {

using Resolved = CheckServices::Resolved;
using DnsAnswer = CheckServices::DnsAnswer;

class SmtpdCheckTest : public SmtpdCheckFixture {
protected:
    SmtpdCheckTest() {
        set("mynetworks", "127.0.0.0/8 [::1]/128");
        set("mydestination", "local.test localhost");
        set("relay_domains", "relay.test");
    }

    CheckServices services() override {
        CheckServices svc;
        svc.resolve = [this](std::string_view, std::string_view address) -> std::optional<Resolved> {
            ++resolve_calls_;
            if (resolve_fail_) return std::nullopt;
            std::string addr(address);
            if (addr.find('@') == std::string::npos) addr += "@local.test";
            std::string domain = addr.substr(addr.rfind('@') + 1);
            Resolved r;
            r.recipient = addr;
            if (domain == "local.test" || domain == "localhost") {
                r.flags = ipc::kResolveClassLocal | ipc::kResolveFinal;
                r.transport = "local";
                r.nexthop = domain;
            } else if (domain == "relay.test") {
                r.flags = ipc::kResolveClassRelay;
                r.transport = "relay";
                r.nexthop = domain;
            } else if (domain == "virtual.test") {
                r.flags = ipc::kResolveClassAlias;
                r.transport = "error";
                r.nexthop = "5.1.1 User unknown in virtual alias table";
            } else {
                r.flags = ipc::kResolveClassDefault;
                r.transport = "smtp";
                r.nexthop = domain;
            }
            return r;
        };
        svc.dns = [this](std::string_view name, std::string_view type) {
            auto it = dns_.find(std::string(type) + " " + std::string(name));
            if (it != dns_.end()) return it->second;
            DnsAnswer a;
            a.status = DnsAnswer::Status::nxdomain;
            return a;
        };
        svc.policy_connect = [this](std::string_view) { return policy_fd_; };
        svc.sleep = [this](int s) { slept_ += s; };
        return svc;
    }

    void dns(const std::string& type, const std::string& name, std::vector<std::string> values) {
        DnsAnswer a;
        a.status = values.empty() ? DnsAnswer::Status::not_found : DnsAnswer::Status::ok;
        a.values = std::move(values);
        dns_[type + " " + name] = a;
    }

    std::map<std::string, DnsAnswer> dns_;
    bool resolve_fail_ = false;
    int resolve_calls_ = 0;
    int policy_fd_ = -1;
    int slept_ = 0;
};

TEST_F(SmtpdCheckTest, DefaultRelayRestrictionsDeferUnauthDestination) {
    auto r = rcpt("u@remote.test");
    EXPECT_EQ(r.reply, "454 4.7.1 <u@remote.test>: Relay access denied");
    ASSERT_EQ(r.log.size(), 1u);
    EXPECT_EQ(r.log[0],
              "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 454 4.7.1 <u@remote.test>: Relay access denied; from=<s@example.org> to=<u@remote.test> proto=ESMTP helo=<client.example>");
    EXPECT_EQ(r.error_class, "policy");
}

TEST_F(SmtpdCheckTest, LocalRelayAndMynetworksAreAccepted) {
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    EXPECT_EQ(rcpt("u@relay.test").reply, "");
    state_.client_addr = "127.0.0.1";
    EXPECT_EQ(rcpt("u@remote.test").reply, "");
    EXPECT_EQ(rcpt("postmaster").reply, "");
}

TEST_F(SmtpdCheckTest, RejectUnauthDestinationAndSoftBounce) {
    set("smtpd_relay_restrictions", "permit_mynetworks reject_unauth_destination");
    EXPECT_EQ(rcpt("u@remote.test").reply, "554 5.7.1 <u@remote.test>: Relay access denied");
    check_.reset();
    set("soft_bounce", "yes");
    EXPECT_EQ(rcpt("u@remote.test").reply, "454 4.7.1 <u@remote.test>: Relay access denied");
}

TEST_F(SmtpdCheckTest, ClientAccessActions) {
    set("smtpd_client_restrictions",
        "check_client_access inline:{{192.0.2.1=REJECT go away}, 192.0.2.2=reject, {192.0.2.3=450 4.7.9 busy}, {192.0.2=DEFER 4.3.2 later}, 192.0.2.5=OK, {192.0.2.6=521 you}, {192.0.2.7=550 5.1.1 moved}}");
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: go away");
    state_.client_addr = "192.0.2.2";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <unknown[192.0.2.2]>: Client host rejected: Access denied");
    state_.client_addr = "192.0.2.3";
    EXPECT_EQ(rcpt("u@local.test").reply, "450 4.7.9 <unknown[192.0.2.3]>: Client host rejected: busy");
    state_.client_addr = "192.0.2.4";
    EXPECT_EQ(rcpt("u@local.test").reply, "450 4.3.2 <unknown[192.0.2.4]>: Client host rejected: later");
    state_.client_addr = "192.0.2.5";
    EXPECT_EQ(rcpt("u@remote.test").reply, "454 4.7.1 <u@remote.test>: Relay access denied");
    state_.client_addr = "192.0.2.6";
    EXPECT_EQ(rcpt("u@local.test").reply, "521 5.7.1 <unknown[192.0.2.6]>: Client host rejected: you");
    state_.client_addr = "192.0.2.7";
    auto r = rcpt("u@local.test");
    EXPECT_EQ(r.reply, "550 5.0.0 <unknown[192.0.2.7]>: Client host rejected: moved");
    ASSERT_EQ(r.log.size(), 2u);
    EXPECT_EQ(r.log[0], "mapping DSN status 5.1.1 into Client host status 5.0.0");
}

TEST_F(SmtpdCheckTest, ClientNameAndParentDomains) {
    set("smtpd_client_restrictions", "check_client_access inline:{example.com=REJECT, unknown=DUNNO}");
    state_.client_name = "mx.sub.example.com";
    EXPECT_EQ(rcpt("u@local.test").reply,
              "554 5.7.1 <mx.sub.example.com[192.0.2.1]>: Client host rejected: Access denied");
}

TEST_F(SmtpdCheckTest, SenderAccessSearchOrder) {
    set("recipient_delimiter", "+");
    set("smtpd_sender_restrictions",
        "check_sender_access inline:{{user@a.test=REJECT full}, {b.test=REJECT domain}, {c@=REJECT local}, {<>=REJECT null}, d@e.test=OK}");
    state_.sender = "user+ext@a.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <user+ext@a.test>: Sender address rejected: full");
    state_.sender = "x@mx.b.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <x@mx.b.test>: Sender address rejected: domain");
    state_.sender = "c@z.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <c@z.test>: Sender address rejected: local");
    state_.sender = "";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <>: Sender address rejected: null");
}

TEST_F(SmtpdCheckTest, RecipientAccessAndWarn) {
    set("smtpd_recipient_restrictions",
        "check_recipient_access inline:{{w@local.test=WARN watch it}, {i@local.test=INFO note}}");
    auto r = rcpt("w@local.test");
    EXPECT_EQ(r.reply, "");
    ASSERT_EQ(r.log.size(), 1u);
    EXPECT_EQ(r.log[0], "NOQUEUE: warn: RCPT from unknown[192.0.2.1]: watch it; from=<s@example.org> to=<w@local.test> proto=ESMTP helo=<client.example>");
    r = rcpt("i@local.test");
    ASSERT_EQ(r.log.size(), 1u);
    EXPECT_EQ(r.log[0].substr(0, 23), "NOQUEUE: info: RCPT fro");
}

TEST_F(SmtpdCheckTest, MessageActions) {
    set("smtpd_recipient_restrictions",
        "check_recipient_access inline:{h@local.test=HOLD, {f@local.test=FILTER smtp:[10.0.0.1]:25}, {r@local.test=REDIRECT x@y.test}, {b@local.test=BCC c@y.test}, {p@local.test=PREPEND X-Tag: yes}, d@local.test=DISCARD}, reject");
    auto r = rcpt("h@local.test");
    EXPECT_EQ(r.reply, "554 5.7.1 <h@local.test>: Recipient address rejected: Access denied");
    EXPECT_EQ(r.log[0], "NOQUEUE: hold: RCPT from unknown[192.0.2.1]: <h@local.test>: Recipient address triggers HOLD action; from=<s@example.org> to=<h@local.test> proto=ESMTP helo=<client.example>");
    EXPECT_TRUE(check().actions().hold);
    rcpt("f@local.test");
    EXPECT_EQ(check().actions().filter, "smtp:[10.0.0.1]:25");
    r = rcpt("r@local.test");
    EXPECT_NE(r.log[0].find("redirect: RCPT from unknown[192.0.2.1]: <r@local.test>: Recipient address triggers REDIRECT x@y.test;"),
              std::string::npos);
    EXPECT_EQ(check().actions().redirect, "x@y.test");
    rcpt("b@local.test");
    ASSERT_EQ(check().actions().bcc.size(), 1u);
    rcpt("p@local.test");
    ASSERT_EQ(check().actions().prepend.size(), 1u);
    EXPECT_EQ(check().actions().prepend[0], "X-Tag: yes");
    r = rcpt("d@local.test");
    EXPECT_EQ(r.reply, "");
    EXPECT_TRUE(check().actions().discard);
    EXPECT_NE(r.log[0].find("discard: RCPT from"), std::string::npos);
    // After DISCARD every later check is skipped until the transaction ends.
    EXPECT_EQ(rcpt("u@remote.test").reply, "");
    check().reset_transaction();
    EXPECT_FALSE(check().actions().discard);
    EXPECT_NE(rcpt("u@remote.test").reply, "");
}

TEST_F(SmtpdCheckTest, RestrictionClassesAndNamesAsAnswers) {
    set("smtpd_restriction_classes", "strict");
    set("strict", "reject_non_fqdn_recipient, reject");
    set("smtpd_recipient_restrictions",
        "check_recipient_access inline:{strict@local.test=strict, nofqdn@local.test=reject_non_fqdn_sender}");
    EXPECT_EQ(rcpt("strict@local.test").reply,
              "554 5.7.1 <strict@local.test>: Recipient address rejected: Access denied");
    state_.sender = "s@nodot";
    EXPECT_EQ(rcpt("nofqdn@local.test").reply, "504 5.5.2 <s@nodot>: Sender address rejected: need fully-qualified address");
}

TEST_F(SmtpdCheckTest, UndefinedClassAndMissingRelayRuleAreFatal) {
    set("smtpd_restriction_classes", "nothing");
    EXPECT_THROW(check(), std::runtime_error);
    set("smtpd_restriction_classes", "");
    set("smtpd_relay_restrictions", "permit_mynetworks");
    set("smtpd_recipient_restrictions", "permit_mynetworks");
    try {
        check_.reset();
        check();
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains");
    }
}

TEST_F(SmtpdCheckTest, UnknownRestrictionAndBadArguments) {
    set("smtpd_recipient_restrictions", "no_such_thing");
    EXPECT_EQ(rcpt("u@local.test").reply, "451 4.3.5 Server configuration error");
    EXPECT_EQ(rcpt("u@local.test").error_class, "software");
    check_.reset();
    set("smtpd_recipient_restrictions", "check_recipient_access");
    EXPECT_EQ(rcpt("u@local.test").reply, "451 4.3.5 Server configuration error");
    check_.reset();
    set("smtpd_recipient_restrictions", "sleep x");
    EXPECT_EQ(rcpt("u@local.test").reply, "451 4.3.5 Server configuration error");
    check_.reset();
    set("smtpd_recipient_restrictions", "check_recipient_access inline:{u@local.test=hash:/x}");
    EXPECT_EQ(rcpt("u@local.test").reply, "451 4.3.5 Server configuration error");
    check_.reset();
    set("smtpd_data_restrictions", "inline:{a=b}");
    set("smtpd_recipient_restrictions", "");
    EXPECT_EQ(check().check_data(state_).reply, "451 4.3.5 Server configuration error");
}

TEST_F(SmtpdCheckTest, WarnIfRejectLogsOnly) {
    set("smtpd_helo_restrictions", "warn_if_reject reject_non_fqdn_helo_hostname");
    state_.helo_name = "nodots";
    auto r = rcpt("u@local.test");
    EXPECT_EQ(r.reply, "");
    ASSERT_EQ(r.log.size(), 1u);
    EXPECT_EQ(r.log[0],
              "NOQUEUE: reject_warning: RCPT from unknown[192.0.2.1]: 504 5.5.2 <nodots>: Helo command rejected: need fully-qualified hostname; from=<s@example.org> to=<u@local.test> proto=ESMTP helo=<nodots>");
}

TEST_F(SmtpdCheckTest, NoDelayRejectChecksAtEachStage) {
    set("smtpd_delay_reject", "no");
    set("smtpd_client_restrictions", "reject");
    state_.helo_name.clear();
    state_.has_sender = false;
    auto r = check().check_client(state_);
    EXPECT_EQ(r.reply, "554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied");
    EXPECT_EQ(r.log[0], "NOQUEUE: reject: CONNECT from unknown[192.0.2.1]: 554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied; proto=ESMTP");
    // With delay, nothing is decided before RCPT.
    check_.reset();
    set("smtpd_delay_reject", "yes");
    EXPECT_EQ(check().check_client(state_).reply, "");
}

TEST_F(SmtpdCheckTest, HeloChecks) {
    set("smtpd_delay_reject", "no");
    set("smtpd_helo_restrictions", "reject_invalid_helo_hostname reject_non_fqdn_helo_hostname");
    state_.has_sender = false;
    state_.helo_name = "bad_name!";
    EXPECT_EQ(check().check_helo(state_).reply, "501 5.5.2 <bad_name!>: Helo command rejected: Invalid name");
    state_.helo_name = "[300.1.1.1]";
    EXPECT_EQ(check().check_helo(state_).reply, "501 5.5.2 <[300.1.1.1]>: Helo command rejected: invalid ip address");
    state_.helo_name = "[192.0.2.1]";
    EXPECT_EQ(check().check_helo(state_).reply, "");
    state_.helo_name = "host.";
    EXPECT_EQ(check().check_helo(state_).reply,
              "504 5.5.2 <host.>: Helo command rejected: need fully-qualified hostname");
    state_.helo_name = "host.example.";
    EXPECT_EQ(check().check_helo(state_).reply, "");
}

TEST_F(SmtpdCheckTest, UnknownHostnamesThroughDns) {
    set("smtpd_helo_restrictions", "reject_unknown_helo_hostname");
    state_.helo_name = "nowhere.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "450 4.7.1 <nowhere.test>: Helo command rejected: Host not found");
    dns("MX", "somewhere.test", {"mx.somewhere.test"});
    state_.helo_name = "somewhere.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    // A temporary failure only defers, and only if the request would be permitted.
    DnsAnswer temp;
    temp.status = DnsAnswer::Status::temp_fail;
    dns_["A flaky.test"] = temp;
    state_.helo_name = "flaky.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "450 4.7.1 <flaky.test>: Helo command rejected: Host not found");
    EXPECT_EQ(rcpt("u@remote.test").reply, "454 4.7.1 <u@remote.test>: Relay access denied");
}

TEST_F(SmtpdCheckTest, UnknownSenderAndRecipientDomains) {
    set("smtpd_sender_restrictions", "reject_unknown_sender_domain");
    set("smtpd_recipient_restrictions", "reject_unknown_recipient_domain");
    state_.sender = "a@nodomain.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "450 4.1.8 <a@nodomain.test>: Sender address rejected: Domain not found");
    dns("A", "nodomain.test", {"192.0.2.9"});
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    state_.client_addr = "127.0.0.1";
    EXPECT_EQ(rcpt("u@gone.test").reply, "450 4.1.2 <u@gone.test>: Recipient address rejected: Domain not found");
    dns("MX", "nullmx.test", {"."});
    EXPECT_EQ(rcpt("u@nullmx.test").reply,
              "556 5.1.10 <u@nullmx.test>: Recipient address rejected: Domain nullmx.test does not accept mail (nullMX)");
}

TEST_F(SmtpdCheckTest, UnknownClientHostname) {
    set("smtpd_client_restrictions", "reject_unknown_client_hostname");
    state_.name_status = NameStatus::perm;
    EXPECT_EQ(rcpt("u@local.test").reply,
              "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]");
    check_.reset();
    set("unknown_client_reject_code", "550");
    EXPECT_EQ(rcpt("u@local.test").reply,
              "550 5.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]");
    state_.name_status = NameStatus::temp;
    EXPECT_EQ(rcpt("u@local.test").reply,
              "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]");
    check_.reset();
    set("smtpd_client_restrictions", "reject_unknown_reverse_client_hostname");
    EXPECT_EQ(rcpt("u@local.test").reply,
              "550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]");
}

TEST_F(SmtpdCheckTest, DeferIfPermitAndDeferIfReject) {
    set("smtpd_client_restrictions", "defer_if_permit");
    EXPECT_EQ(rcpt("u@local.test").reply, "450 4.7.0 <unknown[192.0.2.1]>: Client host rejected: defer_if_permit requested");
    EXPECT_EQ(rcpt("u@remote.test").reply, "454 4.7.1 <u@remote.test>: Relay access denied");
    check_.reset();
    set("smtpd_client_restrictions", "defer_if_reject");
    set("smtpd_relay_restrictions", "permit_mynetworks reject_unauth_destination");
    // A deferral found in one stage does not carry into the next one.
    EXPECT_EQ(rcpt("u@remote.test").reply, "554 5.7.1 <u@remote.test>: Relay access denied");
    check_.reset();
    set("smtpd_client_restrictions", "defer_if_reject, reject");
    EXPECT_EQ(rcpt("u@local.test").reply,
              "450 4.7.0 <unknown[192.0.2.1]>: Client host rejected: defer_if_reject requested");
}

TEST_F(SmtpdCheckTest, MultiRecipientBounceAndPipelining) {
    set("smtpd_data_restrictions", "reject_unauth_pipelining reject_multi_recipient_bounce");
    state_.sender = "";
    state_.recipient_count = 2;
    auto r = check().check_data(state_);
    EXPECT_EQ(r.reply, "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce");
    EXPECT_EQ(r.log[0], "NOQUEUE: reject: DATA from unknown[192.0.2.1]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce; from=<> proto=ESMTP helo=<client.example>");
    state_.recipient_count = 1;
    state_.recipient = "u@local.test";
    EXPECT_EQ(check().check_data(state_).reply, "");
    state_.pipelining_violation = true;
    EXPECT_EQ(check().check_data(state_).reply,
              "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining");
}

TEST_F(SmtpdCheckTest, EndOfDataAndEtrn) {
    set("smtpd_end_of_data_restrictions", "check_sender_access inline:{{example.org=REJECT no more}}");
    state_.recipient_count = 3;
    state_.queue_id = "4ABCDEF";
    auto r = check().check_eod(state_);
    EXPECT_EQ(r.reply, "554 5.7.1 <s@example.org>: Sender address rejected: no more");
    EXPECT_EQ(r.log[0].substr(0, 43), "4ABCDEF: reject: END-OF-MESSAGE from unknow");
    set("smtpd_etrn_restrictions", "check_etrn_access inline:{example.com=REJECT}");
    check_.reset();
    state_.etrn_domain = "example.com";
    EXPECT_EQ(check().check_etrn(state_).reply, "554 5.7.1 <example.com>: Etrn command rejected: Access denied");
}

TEST_F(SmtpdCheckTest, UnlistedRecipients) {
    set("local_recipient_maps", "inline:{known=x}");
    EXPECT_EQ(rcpt("nobody@local.test").reply,
              "550 5.1.1 <nobody@local.test>: Recipient address rejected: User unknown in local recipient table");
    EXPECT_EQ(rcpt("known@local.test").reply, "");
    EXPECT_EQ(rcpt("postmaster@local.test").reply, "");
    EXPECT_EQ(rcpt("x@virtual.test").reply,
              "550 5.1.1 <x@virtual.test>: Recipient address rejected: User unknown in virtual alias table");
    check_.reset();
    set("show_user_unknown_table_name", "no");
    EXPECT_EQ(rcpt("nobody@local.test").reply, "550 5.1.1 <nobody@local.test>: Recipient address rejected: User unknown");
}

TEST_F(SmtpdCheckTest, ResolverFailureIsTemporary) {
    resolve_fail_ = true;
    EXPECT_EQ(rcpt("u@remote.test").reply, "451 4.3.0 <u@remote.test>: Temporary lookup failure");
}

TEST_F(SmtpdCheckTest, SleepAndMessageSize) {
    set("smtpd_recipient_restrictions", "sleep 3");
    EXPECT_EQ(rcpt("u@local.test").reply, "");
    EXPECT_EQ(slept_, 3);
    set("message_size_limit", "1000");
    check_.reset();
    state_.message_size = 1001;
    EXPECT_EQ(check().check_size(state_).reply, "552 5.3.4 Message size exceeds fixed limit");
    state_.message_size = 1000;
    EXPECT_EQ(check().check_size(state_).reply, "");
}

TEST_F(SmtpdCheckTest, MxAccessUsesServerNamesAndAddresses) {
    set("smtpd_sender_restrictions", "check_sender_mx_access inline:{{mx.bad.test=REJECT bad mx}, {10.1.2=REJECT net}}");
    dns("MX", "a.test", {"mx.bad.test"});
    state_.sender = "x@a.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <x@a.test>: Sender address rejected: bad mx");
    dns("MX", "b.test", {"mx.b.test"});
    dns("ADDR", "mx.b.test", {"10.1.2.3"});
    state_.sender = "x@b.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <x@b.test>: Sender address rejected: net");
}

TEST_F(SmtpdCheckTest, OkFromMxAccessIsForbidden) {
    set("smtpd_sender_restrictions", "check_sender_mx_access inline:{mx.ok.test=OK}");
    dns("MX", "ok.test", {"mx.ok.test"});
    state_.sender = "x@ok.test";
    EXPECT_EQ(rcpt("u@local.test").reply, "451 4.3.5 Server configuration error");
}

TEST_F(SmtpdCheckTest, RblClientAndReplyTemplate) {
    set("smtpd_client_restrictions", "reject_rbl_client bl.test=127.0.0.[2..4]");
    dns("A", "1.2.0.192.bl.test", {"127.0.0.2"});
    dns("TXT", "1.2.0.192.bl.test", {"listed for spam"});
    EXPECT_EQ(rcpt("u@local.test").reply,
              "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.test; listed for spam");
    // Answers are cached per process: another client for the filtered-out case.
    state_.client_addr = "192.0.2.9";
    dns("A", "9.2.0.192.bl.test", {"127.0.0.9"});
    EXPECT_EQ(rcpt("u@local.test").reply, "");
}

TEST_F(SmtpdCheckTest, RhsblSender) {
    set("smtpd_sender_restrictions", "reject_rhsbl_sender dbl.test");
    dns("A", "spam.test.dbl.test", {"127.0.1.2"});
    state_.sender = "x@spam.test";
    EXPECT_EQ(rcpt("u@local.test").reply,
              "554 5.7.1 Service unavailable; Sender address [x@spam.test] blocked using dbl.test");
}

TEST_F(SmtpdCheckTest, PolicyServiceRequestAndAnswer) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    policy_fd_ = sv[0];
    set("smtpd_recipient_restrictions", "check_policy_service unix:private/policy");
    std::string request;
    std::thread server([&] {
        char buf[4096];
        while (request.find("\n\n") == std::string::npos) {
            ssize_t n = read(sv[1], buf, sizeof buf);
            if (n <= 0) return;
            request.append(buf, static_cast<std::size_t>(n));
        }
        std::string answer = "action=REJECT policy says no\n\n";
        (void)!write(sv[1], answer.data(), answer.size());
    });
    auto r = rcpt("u@local.test");
    server.join();
    close(sv[1]);
    EXPECT_EQ(r.reply, "554 5.7.1 <u@local.test>: Recipient address rejected: policy says no");
    std::string head = "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.1\n"
                       "client_name=unknown\nclient_port=4711\nreverse_client_name=unknown\n";
    EXPECT_EQ(request.substr(0, head.size()), head);
    EXPECT_NE(request.find("\nrecipient=u@local.test\nrecipient_count=0\n"), std::string::npos);
    EXPECT_NE(request.find("\nencryption_keysize=0\npolicy_context=\n\n"), std::string::npos);
    check().end_session();
}

TEST_F(SmtpdCheckTest, PolicyServiceUnreachableUsesDefaultAction) {
    util::msg_set_quiet(true);
    set("smtpd_recipient_restrictions", "check_policy_service inet:127.0.0.1:9");
    auto r = rcpt("u@local.test");
    util::msg_set_quiet(false);
    EXPECT_EQ(r.reply, "451 4.3.5 <u@local.test>: Recipient address rejected: Server configuration problem");
    EXPECT_EQ(slept_, 1);  // smtpd_policy_service_retry_delay between the two attempts
}

TEST_F(SmtpdCheckTest, ReverseClientAccess) {
    set("smtpd_client_restrictions",
        "check_reverse_client_hostname_access inline:{rev.example=REJECT, {unknown=REJECT no ptr}, ok.example=OK}");
    state_.reverse_name = "mx.rev.example";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <mx.rev.example>: Unverified Client host rejected: Access denied");
    state_.reverse_name = "unknown";
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <unknown>: Unverified Client host rejected: no ptr");
    state_.reverse_name = "ok.example";
    EXPECT_EQ(rcpt("u@local.test").reply, "451 4.3.5 Server configuration error");
}

TEST_F(SmtpdCheckTest, RewriteContext) {
    set("inet_interfaces", "127.0.0.1");
    std::string context;
    EXPECT_EQ(check().check_rewrite(state_, context).reply, "");
    EXPECT_EQ(context, "remote");
    state_.client_addr = "127.0.0.1";
    check().check_rewrite(state_, context);
    EXPECT_EQ(context, "local");
    check_.reset();
    set("local_header_rewrite_clients", "permit_mynetworks, inline:{192.0.2.9=yes}");
    state_.client_addr = "192.0.2.9";
    check().check_rewrite(state_, context);
    EXPECT_EQ(context, "local");
}

TEST_F(SmtpdCheckTest, NoSaslSupportWarnsAndSkips) {
    set("smtpd_recipient_restrictions", "reject_sender_login_mismatch, permit_sasl_authenticated, "
                                        "check_sasl_access inline:{a=OK}, reject");
    EXPECT_EQ(rcpt("u@local.test").reply, "554 5.7.1 <u@local.test>: Recipient address rejected: Access denied");
}

TEST_F(SmtpdCheckTest, AccessPermitLogging) {
    set("smtpd_log_access_permit_actions", "static:all");
    set("smtpd_client_restrictions", "permit_mynetworks");
    state_.client_addr = "127.0.0.1";
    state_.client_name = "localhost";
    auto r = rcpt("u@local.test");
    EXPECT_EQ(r.reply, "");
    ASSERT_EQ(r.log.size(), 2u);  // client restrictions, then smtpd_relay_restrictions
    EXPECT_EQ(r.log[0], "NOQUEUE: permit: RCPT from localhost[127.0.0.1]: action=permit_mynetworks for Client host=localhost[127.0.0.1] ; from=<s@example.org> to=<u@local.test> proto=ESMTP helo=<client.example>");
}

}  // namespace
}  // namespace pf::smtpd
