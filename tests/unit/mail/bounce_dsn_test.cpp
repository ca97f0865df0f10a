// Unit tests for the notice pieces of the bounce daemon in the mail
// library: reading delivery status logs (mail/dsn_log.h), composing the
// multipart/report notice (mail/dsn_notice.h, expectations copied from a
// notice the reference delivered in the pipeline compat area), line
// wrapping, notify_classes and VERP addresses (mail/dsn_notify.h).
#include "mail/dsn_log.h"
#include "mail/dsn_notice.h"
#include "mail/dsn_notify.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace pf::mail {
namespace {

struct Captured {
    std::vector<std::string> warnings;
    WarningSink sink() {
        return [this](std::string_view w) { warnings.emplace_back(w); };
    }
};

// Shows times in UTC while it lives (mail_date() uses local time).
class UtcZone {
public:
    UtcZone() {
        if (const char* tz = std::getenv("TZ")) saved_ = tz, had_ = true;
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
    ~UtcZone() {
        if (had_) ::setenv("TZ", saved_.c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
    }

private:
    std::string saved_;
    bool had_ = false;
};

// --- log files ---------------------------------------------------------------

TEST(BounceDsnLog, ReadsTheAppendFormat) {
    const std::string log =
        "\n<user1@example.com>: user unknown\n"
        "recipient=user1@example.com\n"
        "original_recipient=User1@example.com\n"
        "offset=245\n"
        "dsn_orig_rcpt=rfc822;user1@example.com\n"
        "notify_flags=4\n"
        "status=5.1.1\n"
        "action=failed\n"
        "diag_type=x-unix\n"
        "diag_text=user unknown\n"
        "reason=user unknown\n"
        "\n";
    Captured c;
    auto entries = parse_dsn_log(log, false, "bounce/ABC", true, c.sink());
    ASSERT_EQ(entries.size(), 1u);
    const auto& e = entries[0];
    EXPECT_EQ(e.address, "user1@example.com");
    EXPECT_EQ(e.orig_addr, "User1@example.com");
    EXPECT_EQ(e.offset, 245);
    EXPECT_EQ(e.dsn_orcpt, "rfc822;user1@example.com");
    EXPECT_EQ(e.dsn_notify, 4);
    EXPECT_EQ(e.status, "5.1.1");
    EXPECT_EQ(e.action, "failed");
    EXPECT_EQ(e.dtype, "x-unix");
    EXPECT_EQ(e.dtext, "user unknown");
    EXPECT_EQ(e.reason, "user unknown");
    EXPECT_TRUE(c.warnings.empty());
}

TEST(BounceDsnLog, StandInsForMissingFields) {
    // An old-style entry only: the reference fills in the rest; a defer
    // log gives 4.0.0/delayed, any other 5.0.0/failed.
    std::string log = "<>: gone away\n\n<bob@example.com>:\n\n";
    auto bounce = parse_dsn_log(log, false, "bounce/X");
    ASSERT_EQ(bounce.size(), 2u);
    EXPECT_EQ(bounce[0].address, "(MAILER-DAEMON)");
    EXPECT_EQ(bounce[0].reason, "gone away");
    EXPECT_EQ(bounce[0].status, "5.0.0");
    EXPECT_EQ(bounce[0].action, "failed");
    // "<bob@example.com>:" has no ">: " and is malformed.
    auto defer = parse_dsn_log("reason=later\n\n", true, "defer/X");
    ASSERT_EQ(defer.size(), 1u);
    EXPECT_EQ(defer[0].address, "(recipient address unavailable)");
    EXPECT_EQ(defer[0].status, "4.0.0");
    EXPECT_EQ(defer[0].action, "delayed");
    auto none = parse_dsn_log("recipient=x@y\n\n", false, "bounce/X");
    ASSERT_EQ(none.size(), 1u);
    EXPECT_EQ(none[0].reason, "(description unavailable)");
}

TEST(BounceDsnLog, UnterminatedLastEntryIsDropped) {
    auto entries = parse_dsn_log("recipient=a@b\nreason=x\n\nrecipient=c@d\nreason=y\n", false, "bounce/X");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].address, "a@b");
}

TEST(BounceDsnLog, WarningsAndPrintable) {
    Captured c;
    auto entries = parse_dsn_log("recipient=a\x01@b\nbogus=1\n=x\n!junk line that is rather long indeed\n"
                                 "notify_flags=99\noffset=-5\n\n",
                                 false, "bounce/Q", true, c.sink());
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].address, "a?@b");
    EXPECT_EQ(entries[0].dsn_notify, 0);
    EXPECT_EQ(entries[0].offset, 0);
    ASSERT_EQ(c.warnings.size(), 3u);
    EXPECT_EQ(c.warnings[0], "bounce/Q: unknown attribute name: bogus, ignored");
    EXPECT_EQ(c.warnings[1], "bounce/Q: malformed record: =x...");
    EXPECT_EQ(c.warnings[2], "bounce/Q: malformed record: !junk line that is rather long...");
}

TEST(BounceDsnLog, NotifyFilter) {
    DsnLogEntry e;
    EXPECT_TRUE(dsn_notify_selected(e, kDsnNotifyFailure));
    e.dsn_notify = kDsnNotifyDelay;
    EXPECT_FALSE(dsn_notify_selected(e, kDsnNotifyFailure));
    EXPECT_TRUE(dsn_notify_selected(e, kDsnNotifyOverride));
    e.dsn_notify = kDsnNotifyNever;
    EXPECT_FALSE(dsn_notify_selected(e, kDsnNotifyFailure | kDsnNotifyDelay));
}

// --- wrapping ------------------------------------------------------------------

TEST(BounceDsnWrap, ShortTextStaysOnOneLine) {
    EXPECT_EQ(wrap_line("<a@b>: short", 79, 4), std::vector<std::string>{"<a@b>: short"});
}

TEST(BounceDsnWrap, LongTextWrapsWithIndent) {
    std::string text = "<bob@example.com>: host relay.example.com[192.0.2.1] said: 550 5.1.1 "
                       "<bob@example.com>: Recipient address rejected: User unknown in local recipient table "
                       "(in reply to RCPT TO command)";
    auto lines = wrap_line(text, 79, 4);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "<bob@example.com>: host relay.example.com[192.0.2.1] said: 550 5.1.1");
    EXPECT_EQ(lines[1], "    <bob@example.com>: Recipient address rejected: User unknown in local");
    EXPECT_EQ(lines[2], "    recipient table (in reply to RCPT TO command)");
    for (const auto& l : lines) EXPECT_LE(l.size(), 79u);
}

TEST(BounceDsnWrap, LongWordIsNotBroken) {
    std::string word(100, 'x');
    auto lines = wrap_line("a " + word + " b", 79, 4);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "a");
    EXPECT_EQ(lines[1], "    " + word);
    EXPECT_EQ(lines[2], "    b");
}

// --- composition ---------------------------------------------------------------

std::vector<std::string> failure_body() {
    return {"This is the mail system at host mail.example.com.",
            "",
            "I'm sorry to have to inform you that your message could not",
            "be delivered to one or more recipients. It's attached below.",
            "",
            "For further assistance, please send mail to postmaster.",
            "",
            "If you do so, please include this problem report. You can",
            "delete your own text from the attached returned message.",
            "",
            "                   The mail system"};
}

struct Composed {
    std::string text;
    RecordSink sink() {
        return [this](char type, std::string_view data) {
            text += data;
            if (type != 'L') text += '\n';
        };
    }
};

RecordSource source_of(std::vector<std::pair<char, std::string>> records) {
    auto shared = std::make_shared<std::vector<std::pair<char, std::string>>>(std::move(records));
    auto pos = std::make_shared<size_t>(0);
    return [shared, pos](char& type, std::string& data) {
        if (*pos >= shared->size()) return false;
        type = (*shared)[*pos].first;
        data = (*shared)[*pos].second;
        ++*pos;
        return true;
    };
}

constexpr std::time_t kArrival = 1795841018;  // Sat, 28 Nov 2026 04:43:38 +0000

// The reference's notice for a recipient that a pipe transport refused
// with EX_NOUSER (pipeline compat area, pipe-flags, many-rcpt), less
// what post_mail and cleanup add (Received, Date, Message-Id).
TEST(BounceDsnNotice, FailureNoticeAsTheReferenceWritesIt) {
    UtcZone utc;
    NoticeSettings settings;
    settings.myhostname = "mail.example.com";
    NoticeMessage m;
    m.queue_id = "2D02EA98896";
    m.sender = "alice@example.com";
    m.arrival_time = kArrival;
    m.message_size = 200;
    m.have_original = true;
    m.data_offset = 100;
    m.now = kArrival;
    DsnLogEntry e;
    e.address = "user1@example.com";
    e.dsn_orcpt = "rfc822;user1@example.com";
    e.status = "5.1.1";
    e.action = "failed";
    e.reason = "user unknown";
    e.dtype = "x-unix";
    e.dtext = "user unknown";
    std::optional<std::vector<DsnLogEntry>> entries = std::vector<DsnLogEntry>{e};

    Composed out;
    NoticeComposer c(settings, m, BounceTemplate::builtin(BounceKind::failure), failure_body(), out.sink());
    c.header("alice@example.com", false);
    c.boilerplate();
    EXPECT_EQ(c.diagnostic_log(entries, kDsnNotifyFailure), 1);
    c.header_dsn();
    EXPECT_EQ(c.diagnostic_dsn(entries, kDsnNotifyFailure), 1);
    c.original(kDsnRetFull, source_of({{'N', "Received: by mail.example.com (Postfix, from userid 0)"},
                                       {'N', "\tid 2D02EA98896; Sat, 28 Nov 2026 04:43:38 +0000 (UTC)"},
                                       {'N', "From: Alice <alice@example.com>"},
                                       {'N', "Subject: many"},
                                       {'N', ""},
                                       {'N', "body"},
                                       {'X', ""}}));
    const std::string expected =
        "From: Mail Delivery System <MAILER-DAEMON>\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "To: alice@example.com\n"
        "Auto-Submitted: auto-replied\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        "\tboundary=\"2D02EA98896.1795841018/mail.example.com\"\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "This is a MIME-encapsulated message.\n"
        "\n"
        "--2D02EA98896.1795841018/mail.example.com\n"
        "Content-Description: Notification\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "This is the mail system at host mail.example.com.\n"
        "\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n"
        "\n"
        "For further assistance, please send mail to postmaster.\n"
        "\n"
        "If you do so, please include this problem report. You can\n"
        "delete your own text from the attached returned message.\n"
        "\n"
        "                   The mail system\n"
        "\n"
        "<user1@example.com>: user unknown\n"
        "\n"
        "--2D02EA98896.1795841018/mail.example.com\n"
        "Content-Description: Delivery report\n"
        "Content-Type: message/delivery-status\n"
        "\n"
        "Reporting-MTA: dns; mail.example.com\n"
        "X-Postfix-Queue-ID: 2D02EA98896\n"
        "X-Postfix-Sender: rfc822; alice@example.com\n"
        "Arrival-Date: Sat, 28 Nov 2026 04:43:38 +0000 (UTC)\n"
        "\n"
        "Final-Recipient: rfc822; user1@example.com\n"
        "Original-Recipient: rfc822;user1@example.com\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Diagnostic-Code: x-unix; user unknown\n"
        "\n"
        "--2D02EA98896.1795841018/mail.example.com\n"
        "Content-Description: Undelivered Message\n"
        "Content-Type: message/rfc822\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "Return-Path: <alice@example.com>\n"
        "Received: by mail.example.com (Postfix, from userid 0)\n"
        "\tid 2D02EA98896; Sat, 28 Nov 2026 04:43:38 +0000 (UTC)\n"
        "From: Alice <alice@example.com>\n"
        "Subject: many\n"
        "\n"
        "body\n"
        "\n"
        "--2D02EA98896.1795841018/mail.example.com--\n";
    EXPECT_EQ(out.text, expected);
}

TEST(BounceDsnNotice, HeadersOnlyAndSizeLimit) {
    NoticeSettings settings;
    settings.myhostname = "h";
    settings.bounce_size_limit = 100;
    NoticeMessage m;
    m.queue_id = "Q1";
    m.sender = "a@b";
    m.have_original = true;
    m.data_offset = 10;
    m.message_size = 101;  // over the limit: headers only whatever RET says
    Composed out;
    NoticeComposer c(settings, m, BounceTemplate::builtin(BounceKind::failure), {}, out.sink());
    c.original(kDsnRetFull, source_of({{'N', "Subject: x"},
                                       {'L', "X-Long: part one "},
                                       {'N', "part two"},
                                       {'N', " folded"},
                                       {'N', ""},
                                       {'N', "body"}}));
    EXPECT_NE(out.text.find("Content-Description: Undelivered Message Headers\n"
                            "Content-Type: text/rfc822-headers\n"),
              std::string::npos);
    // "part two" continues an L record: the reference tests each record
    // on its own, so it stops there.
    EXPECT_NE(out.text.find("Return-Path: <a@b>\nSubject: x\nX-Long: part one \n--Q1."), std::string::npos);
}

TEST(BounceDsnNotice, PostmasterCopyAndUnavailableParts) {
    NoticeSettings settings;
    settings.myhostname = "h";
    settings.smtputf8_enable = false;
    NoticeMessage m;
    m.queue_id = "Q2";
    m.encoding = "7bit";
    Composed out;
    NoticeComposer c(settings, m, BounceTemplate::builtin(BounceKind::failure), {}, out.sink());
    c.header("postmaster", true);
    // No log: the failure notice still goes out with a placeholder.
    EXPECT_EQ(c.diagnostic_log(std::nullopt, kDsnNotifyOverride), 1);
    c.original(kDsnRetHdrs, {});
    EXPECT_NE(out.text.find("Subject: Postmaster Copy: Undelivered Mail\n"), std::string::npos);
    EXPECT_NE(out.text.find("Auto-Submitted: auto-generated\n"), std::string::npos);
    EXPECT_NE(out.text.find("Content-Transfer-Encoding: 7bit\n"), std::string::npos);
    EXPECT_NE(out.text.find("Content-Type: text/plain; charset=us-ascii\n\n"), std::string::npos);
    EXPECT_NE(out.text.find("\n\t--- Delivery report unavailable ---\n"), std::string::npos);
    // No original: a placeholder and no closing boundary, as the reference.
    EXPECT_TRUE(out.text.ends_with("\n\t--- Undelivered message unavailable ---\n"));
}

TEST(BounceDsnNotice, DelayNoticeFields) {
    UtcZone utc;
    NoticeSettings settings;
    settings.myhostname = "h";
    settings.max_queue_time = 86400;
    NoticeMessage m;
    m.queue_id = "Q3";
    m.sender = "a@b";
    m.arrival_time = kArrival;
    m.dsn_envid = "ENV1";
    DsnLogEntry e;
    e.address = "c@d";
    e.orig_addr = "C@d";
    e.status = "4.0.0";
    e.action = "delayed";
    e.reason = "try later";
    e.mtype = "dns";
    e.mname = "mx.d";
    Composed out;
    NoticeComposer c(settings, m, BounceTemplate::builtin(BounceKind::delay), {}, out.sink());
    c.header_dsn();
    c.recipient_dsn(e);
    c.recipient_log(e);
    EXPECT_NE(out.text.find("Original-Envelope-Id: ENV1\n"), std::string::npos);
    EXPECT_NE(out.text.find("Final-Recipient: rfc822; c@d\n"
                            "Original-Recipient: rfc822; C@d\n"
                            "Action: delayed\n"
                            "Status: 4.0.0\n"
                            "Remote-MTA: dns; mx.d\n"
                            "Diagnostic-Code: X-Postfix; try later\n"
                            "Will-Retry-Until: Sun, 29 Nov 2026 04:43:38 +0000 (UTC)\n"),
              std::string::npos);
    EXPECT_NE(out.text.find("\n<c@d> (expanded from <C@d>): try later\n"), std::string::npos);
}

TEST(BounceDsnNotice, MailNameBecomesAnAtom) {
    EXPECT_EQ(mail_name_atom("Post fix(1)"), "Post-fix-1-");
    EXPECT_EQ(mail_name_atom("Postfix"), "Postfix");
}

TEST(BounceDsnNotice, ObsoleteFromFormForBuiltInTemplates) {
    NoticeSettings settings;
    settings.myhostname = "h";
    settings.standard_from = false;
    NoticeMessage m;
    m.queue_id = "Q4";
    Composed out;
    NoticeComposer c(settings, m, BounceTemplate::builtin(BounceKind::failure), {}, out.sink());
    c.header("a@b", false);
    EXPECT_TRUE(out.text.starts_with("From: MAILER-DAEMON (Mail Delivery System)\n"));
}

// --- notify_classes and VERP -----------------------------------------------------

TEST(BounceDsnNotify, Classes) {
    EXPECT_EQ(parse_notify_classes("resource, software").value(), kNotifyResource | kNotifySoftware);
    EXPECT_EQ(parse_notify_classes("bounce,2bounce delay").value(), kNotifyBounce | kNotify2Bounce | kNotifyDelay);
    EXPECT_EQ(parse_notify_classes("").value(), 0);
    auto bad = parse_notify_classes("bounce, Bounce");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "unknown notify_classes value \"Bounce\" in \"bounce, Bounce\"");
}

TEST(BounceDsnNotify, VerpSender) {
    EXPECT_EQ(verp_sender("owner-list@example.com", "+=", "user@remote.example"),
              "owner-list+user=remote.example@example.com");
    EXPECT_EQ(verp_sender("owner", "+=", "user"), "owner+user");
    EXPECT_EQ(verp_sender("owner@", "-=", "user@"), "owner-user");
}

}  // namespace
}  // namespace pf::mail
