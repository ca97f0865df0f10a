// Unit tests: one message through cleanup's session (records in, queue
// file records out), for what the pipeline comparison showed: the
// duplicate filter, a body without a final newline, DISCARD, the size
// limit as the reference's buffered file under a file size limit sees it,
// cleanup's own bounce of rejected mail, and where content filter records
// go.
#include "daemon/cleanup/cleanup_session.h"
#include "memory_sink.h"

#include "ipc/services.h"
#include "queue/queue_file_reader.h"
#include "queue/record.h"
#include "util/msg.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace pf::cleanup {
namespace {

namespace rec = queue::rec;

struct Logs {
    std::vector<std::string> lines;
    Logs() {
        util::msg_set_stderr(false);
        util::msg_set_sink([this](util::MsgLevel level, std::string_view text) {
            lines.push_back(level == util::MsgLevel::warning ? "warning: " + std::string(text) : std::string(text));
        });
    }
    ~Logs() {
        util::msg_set_sink({});
        util::msg_set_stderr(true);
    }
    bool has(std::string_view needle) const {
        for (const auto& l : lines)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
};

// A regexp: table in a temporary file, removed at the end of the test.
struct RegexpFile {
    std::string path;
    explicit RegexpFile(const std::string& text) {
        char name[] = "/tmp/pf-cleanup-test-XXXXXX";
        int fd = ::mkstemp(name);
        if (fd >= 0) {
            (void)!::write(fd, text.data(), text.size());
            ::close(fd);
            path = name;
        }
    }
    ~RegexpFile() {
        if (!path.empty()) ::unlink(path.c_str());
    }
    std::expected<mail::Maps, std::string> open() const {
        return mail::Maps::open("header_checks", "regexp:" + path, dict::kLock);
    }
};

constexpr unsigned kPickupFlags = ipc::kCleanupBounce | ipc::kCleanupFilter | ipc::kCleanupBccOk | ipc::kCleanupMapOk;

struct Message {
    CleanupSettings settings;
    MemorySink sink;
    CleanupSession session;
    Message()
        : session(settings, sink, "ABC123", 1700000000,
                  [](std::string_view, std::string_view a) -> std::expected<std::string, std::string> {
                      return std::string(a);
                  }) {}
    void envelope(const std::vector<std::string>& rcpts, unsigned flags = kPickupFlags) {
        session.set_flags(flags);
        session.record(rec::kTime, "1700000000");
        session.record(rec::kFrom, "alice@example.com");
        for (const auto& r : rcpts) session.record(rec::kRcpt, r);
        session.record(rec::kMessage, "");
        session.record(rec::kNorm, "Received: by host");
        session.record(rec::kNorm, "Subject: test");
        session.record(rec::kNorm, "Message-ID: <x@y>");
    }
    void end() {
        session.record(rec::kExtracted, "");
        session.record(rec::kEnd, "");
    }
};

// The types of the records written, in order, as a string.
std::string record_types(const MemorySink& sink) {
    std::string out;
    for (const auto& r : sink.records) out += r.first;
    return out;
}

TEST(CleanupSession, ContentFilterStaysWhereItCame) {
    Logs logs;
    Message m;
    m.session.set_flags(kPickupFlags);
    m.session.record(rec::kFilter, "smtp:[127.0.0.1]:10025");   // pickup: before everything
    m.session.record(rec::kTime, "1700000000");
    m.session.record(rec::kFrom, "alice@example.com");
    m.session.record(rec::kRcpt, "bob@example.com");
    m.session.record(rec::kRedirect, "carol@example.com");       // after a recipient: mixed
    m.session.record(rec::kMessage, "");
    m.session.record(rec::kNorm, "Received: by host");
    m.session.record(rec::kNorm, "Subject: test");
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "body");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    const std::string types = record_types(m.sink);
    // size, filter, time, create_time, sender, ..., recipient, redirect, M
    ASSERT_GE(types.size(), 4u);
    EXPECT_EQ(types.substr(0, 4), (std::string{rec::kSize, rec::kFilter, rec::kTime, rec::kAttr}));
    EXPECT_EQ(m.sink.of_type(rec::kFilter), (std::vector<std::string>{"smtp:[127.0.0.1]:10025"}));
    const auto r = types.find(rec::kRcpt);
    ASSERT_NE(r, std::string::npos);
    EXPECT_EQ(types.find(rec::kRedirect), r + 1);
    EXPECT_LT(types.find(rec::kRedirect), types.find(rec::kMessage));
}

TEST(CleanupSession, DuplicateRecipientsAreFoldedForCase) {
    Logs logs;
    Message m;
    m.envelope({"bob@example.com", "bob@example.com", "BOB@example.com", "carol@example.com"});
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "body");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_EQ(m.sink.of_type(rec::kRcpt), (std::vector<std::string>{"bob@example.com", "carol@example.com"}));
}

TEST(CleanupSession, BodyEndingMidLineGetsAnEmptyLine) {
    Logs logs;
    Message m;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kCont, "last line");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    auto& r = m.sink.records;
    ASSERT_GE(r.size(), 4u);
    EXPECT_EQ(r[r.size() - 4], (std::pair<char, std::string>{rec::kCont, "last line"}));
    EXPECT_EQ(r[r.size() - 3], (std::pair<char, std::string>{rec::kNorm, ""}));
    EXPECT_EQ(r[r.size() - 2].first, rec::kExtracted);
    EXPECT_EQ(r.back().first, rec::kEnd);
}

TEST(CleanupSession, HeadersWithoutFinalNewlineGetNothingMore) {
    Logs logs;
    Message m;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kCont, "X-Last: value");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    auto norms = m.sink.of_type(rec::kNorm);
    ASSERT_FALSE(norms.empty());
    EXPECT_NE(norms.back(), "");
}

TEST(CleanupSession, DiscardStopsProcessing) {
    Logs logs;
    Message m;
    RegexpFile table("/^Subject:/ DISCARD gone\n");
    auto checks = table.open();
    if (!checks) GTEST_SKIP() << checks.error();
    m.settings.header_checks = std::move(*checks);
    m.session.set_flags(kPickupFlags);
    m.session.record(rec::kTime, "1700000000");
    m.session.record(rec::kFrom, "alice@example.com");
    m.session.record(rec::kRcpt, "bob@example.com");
    m.session.record(rec::kMessage, "");
    m.session.record(rec::kNorm, "Received: by host");
    m.session.record(rec::kNorm, "Subject: test");
    m.session.record(rec::kNorm, "Message-ID: <x@y>");
    m.session.record(rec::kNorm, "");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_TRUE(m.session.discard());
    EXPECT_TRUE(logs.has("discard: header Subject: test"));
    EXPECT_FALSE(logs.has("message-id=")) << "nothing is processed after DISCARD";
}

// smtpd's end-of-data HOLD (and DISCARD) arrive as an 'f' record in the
// extracted envelope, after the content: applied as in the initial one,
// and a bad value is refused with the reference's warning.
TEST(CleanupSession, ExtraFlagsInTheExtractedEnvelope) {
    Logs logs;
    {
        Message m;
        m.envelope({"bob@example.com"});
        m.session.record(rec::kNorm, "");
        m.session.record(rec::kNorm, "body");
        m.session.record(rec::kExtracted, "");
        m.session.record(rec::kFlags, std::to_string(ipc::kCleanupHold));
        m.session.record(rec::kEnd, "");
        EXPECT_EQ(m.session.finish(), 0u);
        EXPECT_TRUE(m.session.hold());
        EXPECT_FALSE(m.session.discard());
        EXPECT_TRUE(m.sink.of_type(rec::kFlags).empty()) << "not part of the queue file";
    }
    {
        Message m;
        m.envelope({"bob@example.com"});
        m.session.record(rec::kNorm, "");
        m.session.record(rec::kExtracted, "");
        m.session.record(rec::kFlags, std::to_string(ipc::kCleanupDiscard));
        m.session.record(rec::kEnd, "");
        EXPECT_EQ(m.session.finish(), 0u);
        EXPECT_TRUE(m.session.discard());
    }
    {
        Message m;
        m.envelope({"bob@example.com"});
        m.session.record(rec::kNorm, "");
        m.session.record(rec::kExtracted, "");
        m.session.record(rec::kFlags, "4096");
        m.session.record(rec::kEnd, "");
        EXPECT_EQ(m.session.finish(), 0u);
        EXPECT_FALSE(m.session.hold());
        EXPECT_TRUE(logs.has("warning: ABC123: ignoring bad extra flags: 0x1000"));
    }
}

// The reference's queue file stream writes 4096 bytes at a time under a
// file size limit of message_size_limit: a message that ends before the
// next 4096-byte boundary past the limit fails at the final flush, one
// that goes on fails when that boundary is written.
TEST(CleanupSession, SizeLimitFailsAtTheFinalFlush) {
    Logs logs;
    Message m;
    m.settings.message_size_limit = 1000;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, std::string(1500, 'y'));
    m.end();
    EXPECT_TRUE(m.session.end_seen());
    EXPECT_EQ(m.session.finish(), ipc::kCleanupStatSize);
    EXPECT_TRUE(m.session.size_cut());
    EXPECT_TRUE(logs.has("warning: ABC123: queue file size limit exceeded"));
}

TEST(CleanupSession, SizeLimitFailsAtABufferBoundary) {
    Logs logs;
    Message m;
    m.settings.message_size_limit = 3000;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "");
    for (int i = 0; i < 30; ++i) m.session.record(rec::kNorm, std::string(200, 'y'));
    // Past 4096: the flush of the first buffer fails, nothing more is written.
    EXPECT_FALSE(m.session.out_ok());
    long written = m.sink.offset();
    EXPECT_GT(written, 4096);
    EXPECT_LT(written, 4096 + 210);
    m.end();
    EXPECT_EQ(m.session.finish(), ipc::kCleanupStatSize);
}

TEST(CleanupSession, UnderTheLimitNothingHappens) {
    Logs logs;
    Message m;
    m.settings.message_size_limit = 5000;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, std::string(1000, 'y'));
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_FALSE(m.session.size_cut());
}

struct BounceCapture {
    ipc::DeliveryAgentSettings settings;
    ipc::DeliveryRequest request;
    std::vector<std::string> appended;
    std::vector<std::string> logged;
    std::vector<ipc::BounceNoticeRequest> notices;
    int notice_status = 0;
    ipc::DeliveryRecorder recorder{settings, request};
    BounceCapture() {
        request.queue_id = "ABC123";
        recorder.set_append_call([this](std::string_view service, unsigned, const ipc::DeliveryRecipient& r,
                                        const ipc::Dsn& d) {
            appended.push_back(fmt::format("{} {} {} {} {}", service, r.address, d.status, d.action, d.reason));
            return true;
        });
        recorder.set_log_sink([this](const std::string& line) { logged.push_back(line); });
    }
    CleanupSession::NoticeCall notice() {
        return [this](const ipc::BounceNoticeRequest& r) {
            notices.push_back(r);
            return notice_status;
        };
    }
};

TEST(CleanupBounce, RejectedMailIsBouncedAndDiscarded) {
    Logs logs;
    Message m;
    RegexpFile table("/^Subject:/ REJECT go away\n");
    auto checks = table.open();
    if (!checks) GTEST_SKIP() << checks.error();
    m.settings.header_checks = std::move(*checks);
    m.envelope({"bob@example.com", "carol@example.com"});
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "body");
    m.end();
    unsigned status = m.session.finish();
    EXPECT_EQ(status, ipc::kCleanupStatCont);
    ASSERT_TRUE(m.session.can_bounce());
    BounceCapture b;
    EXPECT_EQ(m.session.bounce(b.recorder, b.notice()), 0u);
    EXPECT_TRUE(m.session.discard());
    EXPECT_EQ(b.appended, (std::vector<std::string>{"bounce bob@example.com 5.7.1 failed go away",
                                                    "bounce carol@example.com 5.7.1 failed go away"}));
    ASSERT_EQ(b.logged.size(), 2u);
    EXPECT_NE(b.logged[0].find("to=<bob@example.com>, relay=none"), std::string::npos) << b.logged[0];
    EXPECT_NE(b.logged[0].find("dsn=5.7.1, status=bounced (go away)"), std::string::npos) << b.logged[0];
    ASSERT_EQ(b.notices.size(), 1u);
    EXPECT_EQ(b.notices[0].request, "flush");
    EXPECT_EQ(b.notices[0].queue_name, "incoming");
    EXPECT_EQ(b.notices[0].sender, "alice@example.com");
    EXPECT_EQ(b.notices[0].dsn_ret, 2) << "headers only after a content rejection";
    EXPECT_EQ(b.notices[0].flags, ipc::kBounceFlagClean);
}

TEST(CleanupBounce, FailedNoticeKeepsTheClientsCopy) {
    Logs logs;
    Message m;
    m.settings.message_size_limit = 1000;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, std::string(1500, 'y'));
    m.end();
    ASSERT_EQ(m.session.finish(), ipc::kCleanupStatSize);
    ASSERT_TRUE(m.session.can_bounce());
    BounceCapture b;
    b.notice_status = 1;
    EXPECT_EQ(m.session.bounce(b.recorder, b.notice()), ipc::kCleanupStatWrite);
    EXPECT_FALSE(m.session.discard());
    EXPECT_TRUE(logs.has("warning: ABC123: bounce message failure"));
    EXPECT_EQ(b.appended, (std::vector<std::string>{"bounce bob@example.com 5.3.4 failed message file too big"}));
}

// Recipients are read back from a file that stops at the size limit: those
// past it are not bounced, and the record cut there is reported.
TEST(CleanupBounce, RecipientsPastTheSizeLimitAreNotBounced) {
    Logs logs;
    Message m;
    m.settings.message_size_limit = 400;
    m.session.set_flags(kPickupFlags);
    m.session.record(rec::kTime, "1700000000");
    m.session.record(rec::kFrom, "alice@example.com");
    m.session.record(rec::kMessage, "");
    m.session.record(rec::kNorm, "Received: by host");
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "body");
    m.session.record(rec::kExtracted, "");
    for (int i = 0; i < 10; ++i) m.session.record(rec::kRcpt, fmt::format("user{}@example.com", i));
    m.session.record(rec::kEnd, "");
    ASSERT_EQ(m.session.finish(), ipc::kCleanupStatSize);
    BounceCapture b;
    EXPECT_EQ(m.session.bounce(b.recorder, b.notice()), 0u);
    ASSERT_FALSE(b.appended.empty());
    EXPECT_LT(b.appended.size(), 10u);
    EXPECT_TRUE(logs.has("warning: incoming/ABC123: unexpected EOF"));
}

TEST(CleanupBounce, NotWithoutTheBounceFlag) {
    Logs logs;
    Message m;
    m.settings.message_size_limit = 1000;
    m.envelope({"bob@example.com"}, ipc::kCleanupFilter | ipc::kCleanupMapOk);
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, std::string(1500, 'y'));
    m.end();
    EXPECT_NE(m.session.finish(), 0u);
    EXPECT_FALSE(m.session.can_bounce());
}

// The size record's last field: the SMTPUTF8 bits.
long smtputf8_field(const MemorySink& sink) {
    return queue::parse_size_record(sink.records.front().second).smtputf8;
}

TEST(CleanupUtf8, Utf8SenderRequestsSmtputf8WhenAutodetected) {
    Logs logs;
    Message m;
    m.session.set_flags(kPickupFlags | ipc::kCleanupAutoUtf8);
    m.session.record(rec::kTime, "1700000000");
    m.session.record(rec::kFrom, "j\xc3\xbcrgen@example.com");
    m.session.record(rec::kRcpt, "bob@example.com");
    m.session.record(rec::kMessage, "");
    m.session.record(rec::kNorm, "Received: by host");
    m.session.record(rec::kNorm, "");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_EQ(smtputf8_field(m.sink), 1 + 4);  // requested, sender
}

TEST(CleanupUtf8, NonAsciiHeaderIsNotedButNotRequestedWithoutAutodetect) {
    Logs logs;
    Message m;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "X-Greeting: gr\xc3\xbc\xc3\x9f");
    m.session.record(rec::kNorm, "");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_EQ(smtputf8_field(m.sink), 2);  // header only
}

TEST(CleanupUtf8, Utf8RecipientGetsUtf8OriginalRecipientWhenRequested) {
    Logs logs;
    Message m;
    m.envelope({"b\xc3\xb6" "b@example.com"}, kPickupFlags | ipc::kCleanupAutoUtf8);
    m.session.record(rec::kNorm, "");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_EQ(smtputf8_field(m.sink), 1);
    auto attrs = m.sink.of_type(rec::kAttr);
    EXPECT_NE(std::find(attrs.begin(), attrs.end(), "dsn_orig_rcpt=utf-8;b\xc3\xb6" "b@example.com"), attrs.end());
}

TEST(CleanupUtf8, ClientSizeRecordKeepsOnlyTheRequestedBit) {
    Logs logs;
    Message m;
    m.session.set_flags(kPickupFlags | ipc::kCleanupSmtputf8);
    m.session.record(rec::kSize, fmt::format("{:15} {:15} {:15} {:15} {:15} {:15}", 1, 2, 3, 0, 5, 6));
    m.session.record(rec::kTime, "1700000000");
    m.session.record(rec::kFrom, "alice@example.com");
    m.session.record(rec::kRcpt, "bob@example.com");
    m.session.record(rec::kMessage, "");
    m.session.record(rec::kNorm, "Received: by host");
    m.session.record(rec::kNorm, "");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_EQ(smtputf8_field(m.sink), 1);
}

TEST(CleanupUtf8, NothingWhenSmtputf8IsOff) {
    Logs logs;
    Message m;
    m.settings.smtputf8_enable = false;
    m.envelope({"b\xc3\xb6" "b@example.com"}, kPickupFlags | ipc::kCleanupAutoUtf8);
    m.session.record(rec::kNorm, "X-Greeting: gr\xc3\xbc\xc3\x9f");
    m.session.record(rec::kNorm, "");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_EQ(smtputf8_field(m.sink), 0);
}

TEST(CleanupEnvelope, EmptyRecipientBecomesEmptyAddressRecipient) {
    Logs logs;
    Message m;
    m.settings.empty_address_recipient = "postmaster";
    m.envelope({"", "bob@example.com"});
    m.session.record(rec::kNorm, "");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_EQ(m.sink.of_type(rec::kRcpt), (std::vector<std::string>{"postmaster", "bob@example.com"}));
}

TEST(CleanupEnvelope, BadTraceFlagsRejectTheMessage) {
    Logs logs;
    Message m;
    m.session.set_flags(kPickupFlags);
    m.session.record(rec::kTime, "1700000000");
    m.session.record(rec::kFrom, "alice@example.com");
    m.session.record(rec::kAttr, "trace_flags=12x");
    m.session.record(rec::kRcpt, "bob@example.com");
    m.session.record(rec::kMessage, "");
    m.session.record(rec::kNorm, "Received: by host");
    m.end();
    EXPECT_NE(m.session.finish() & ipc::kCleanupStatBad, 0u);
    EXPECT_TRUE(logs.has("warning: ABC123: message rejected: bad TFLAG record <trace_flags=12x>"));
}

TEST(CleanupEnvelope, TraceFlagsArePassedOn) {
    Logs logs;
    Message m;
    m.session.set_flags(kPickupFlags);
    m.session.record(rec::kTime, "1700000000");
    m.session.record(rec::kFrom, "alice@example.com");
    m.session.record(rec::kAttr, "trace_flags=1024");
    m.session.record(rec::kRcpt, "bob@example.com");
    m.session.record(rec::kMessage, "");
    m.session.record(rec::kNorm, "Received: by host");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    auto attrs = m.sink.of_type(rec::kAttr);
    EXPECT_NE(std::find(attrs.begin(), attrs.end(), "trace_flags=1024"), attrs.end());
}

TEST(CleanupMasquerade, ExceptionsAreAStringListWithTables) {
    Logs logs;
    Message m;
    m.settings.masquerade.emplace("example.com", nullptr);
    m.settings.masquerade_classes |= kEnvRcpt;
    m.settings.masquerade_exceptions.emplace("masquerade_exceptions", "inline:{ carol=yes }, !dave, Bob",
                                             mail::DomainList::Style::exact, false);
    m.envelope({"carol@host.example.com", "dave@host.example.com", "bob@host.example.com",
                "erin@host.example.com"});
    m.session.record(rec::kNorm, "");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
    EXPECT_EQ(m.sink.of_type(rec::kRcpt),
              (std::vector<std::string>{"carol@host.example.com", "dave@example.com", "bob@host.example.com",
                                        "erin@example.com"}));
}

TEST(CleanupStrictMime, EightBitBodyInSevenBitTextIsRejected) {
    Logs logs;
    Message m;
    m.settings.strict_8bitmime_body = true;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "caf\xc3\xa9");
    m.session.record(rec::kNorm, "cr\xc3\xa8me");
    m.end();
    EXPECT_EQ(m.session.finish(), ipc::kCleanupStatCont);
    EXPECT_EQ(m.session.reason(), "5.6.0 improper use of 8-bit data in message body");
    EXPECT_TRUE(logs.has("ABC123: reject: mime-error improper use of 8-bit data in message body: caf"));
    EXPECT_TRUE(logs.has(" from local; from=<alice@example.com> to=<bob@example.com>"));
}

TEST(CleanupStrictMime, EightBitBodyIsFineWhenLabelled) {
    Logs logs;
    Message m;
    m.settings.strict_8bitmime_body = true;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "Content-Transfer-Encoding: 8bit");
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "caf\xc3\xa9");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
}

TEST(CleanupStrictMime, EightBitHeaderIsRejectedFirst) {
    Logs logs;
    Message m;
    m.settings.strict_8bitmime = true;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "X-Greeting: gr\xc3\xbc\xc3\x9f");
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "caf\xc3\xa9");
    m.end();
    EXPECT_EQ(m.session.finish(), ipc::kCleanupStatCont);
    EXPECT_EQ(m.session.reason(), "5.6.0 improper use of 8-bit data in message header");
    EXPECT_TRUE(logs.has("mime-error improper use of 8-bit data in message body"));
}

TEST(CleanupStrictMime, MultipartNeedsAnIdentityEncoding) {
    Logs logs;
    Message m;
    m.settings.strict_mime_encoding_domain = true;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "Content-Type: multipart/mixed; boundary=B");
    m.session.record(rec::kNorm, "Content-Transfer-Encoding: base64");
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "--B");
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "text");
    m.session.record(rec::kNorm, "--B--");
    m.end();
    EXPECT_EQ(m.session.finish(), ipc::kCleanupStatCont);
    EXPECT_EQ(m.session.reason(), "5.6.0 invalid message/* or multipart/* encoding domain");
    EXPECT_TRUE(logs.has("reject: mime-error invalid message/* or multipart/* encoding domain: base64 from local;"));
}

TEST(CleanupStrictMime, ChecksOnlyWhatContentChecksApplyTo) {
    Logs logs;
    Message m;
    m.settings.strict_8bitmime = true;
    m.envelope({"bob@example.com"}, ipc::kCleanupMapOk);
    m.session.record(rec::kNorm, "X-Greeting: gr\xc3\xbc\xc3\x9f");
    m.session.record(rec::kNorm, "");
    m.end();
    EXPECT_EQ(m.session.finish(), 0u);
}

TEST(CleanupStrictMime, HeaderCheckReasonWins) {
    Logs logs;
    RegexpFile table("/^Subject:/ REJECT subject rejected\n");
    auto maps = table.open();
    ASSERT_TRUE(maps.has_value()) << maps.error();
    Message m;
    m.settings.header_checks = std::move(*maps);
    m.settings.strict_8bitmime_body = true;
    m.envelope({"bob@example.com"});
    m.session.record(rec::kNorm, "");
    m.session.record(rec::kNorm, "caf\xc3\xa9");
    m.end();
    EXPECT_EQ(m.session.finish(), ipc::kCleanupStatCont);
    EXPECT_EQ(m.session.reason(), "5.7.1 subject rejected");
}

}  // namespace
}  // namespace pf::cleanup
