// Unit tests: the queue manager's envelope reader.
#include "daemon/qmgr/qmgr_envelope.h"

#include "qmgr_test_util.h"

#include <cstdio>
#include <memory>

namespace pf::qmgr {
namespace {

using test::QueueFileSpec;

struct MemFile {
    std::FILE* fp;
    explicit MemFile(const std::string& data) : fp(std::tmpfile()) {
        std::fwrite(data.data(), 1, data.size(), fp);
        std::rewind(fp);
    }
    ~MemFile() { std::fclose(fp); }
};

TEST(QmgrEnvelope, ReadsSenderRecipientsAndLogsOpened) {
    test::LogCapture log;
    QueueFileSpec spec;
    spec.arrival = 1700000000;
    spec.rcpts = {{"a@example.com", "A@Example.com"}, {"done@example.com", "", queue::rec::kDone},
                  {"b@example.org"}};
    spec.attrs = {"rewrite_context=remote", "log_client_name=mx.example.net", "client_name=ignored",
                  "envelope_id=ENV1", "ret_flags=2", "notify_flags=x"};
    MemFile f(test::build_queue_file(spec));
    Envelope env;
    ASSERT_TRUE(read_envelope(f.fp, "ABC123", env, 100)) << log.all();
    EXPECT_EQ(env.sender, "sender@example.com");
    EXPECT_EQ(env.arrival_sec, 1700000000);
    EXPECT_EQ(env.create_time, 1700000000);
    ASSERT_EQ(env.recipients.size(), 2u);
    EXPECT_EQ(env.recipients[0].address, "a@example.com");
    EXPECT_EQ(env.recipients[0].orig_addr, "A@Example.com");
    EXPECT_EQ(env.recipients[1].address, "b@example.org");
    EXPECT_GT(env.recipients[1].offset, env.recipients[0].offset);
    EXPECT_EQ(env.rcpt_offset, 0);
    EXPECT_EQ(env.rewrite_context, "remote");
    EXPECT_EQ(env.client_name, "mx.example.net");
    EXPECT_EQ(env.dsn_envid, "ENV1");
    EXPECT_EQ(env.dsn_ret, 2);
    EXPECT_EQ(env.cont_length, env.data_size);
    ASSERT_FALSE(log.lines.empty());
    EXPECT_EQ(log.lines[0], fmt::format("ABC123: from=<sender@example.com>, size={}, nrcpt=3 (queue active)",
                                        env.cont_length));
    EXPECT_TRUE(log.has("warning: ABC123: ignoring malformed DSN notify flags <x>"));
}

TEST(QmgrEnvelope, RecipientOffsetPointsAtRecord) {
    test::LogCapture log;
    QueueFileSpec spec;
    spec.rcpts = {{"x@example.com"}};
    std::string data = test::build_queue_file(spec);
    MemFile f(data);
    Envelope env;
    ASSERT_TRUE(read_envelope(f.fp, "ID1", env, 10));
    ASSERT_EQ(env.recipients.size(), 1u);
    EXPECT_EQ(data[static_cast<std::size_t>(env.recipients[0].offset)], 'R');
}

TEST(QmgrEnvelope, BatchesOfRecipients) {
    test::LogCapture log;
    QueueFileSpec spec;
    for (int i = 0; i < 25; ++i) spec.rcpts.push_back({fmt::format("u{}@example.com", i)});
    MemFile f(test::build_queue_file(spec));
    Envelope env;
    ASSERT_TRUE(read_envelope(f.fp, "ID2", env, 10)) << log.all();
    EXPECT_EQ(env.recipients.size(), 10u);
    EXPECT_GT(env.rcpt_offset, 0);
    ASSERT_TRUE(read_envelope(f.fp, "ID2", env, 10)) << log.all();
    EXPECT_EQ(env.recipients.size(), 10u);
    EXPECT_EQ(env.recipients[0].address, "u10@example.com");
    ASSERT_TRUE(read_envelope(f.fp, "ID2", env, 10)) << log.all();
    EXPECT_EQ(env.recipients.size(), 5u);
    EXPECT_EQ(env.rcpt_offset, 0);
    EXPECT_FALSE(log.has("warning")) << log.all();
}

TEST(QmgrEnvelope, FilterWarnAndVerp) {
    test::LogCapture log;
    QueueFileSpec spec;
    spec.rcpts = {{"x@example.com"}};
    spec.filter = "smtp-amavis:[127.0.0.1]:10024";
    spec.warn_time = 1700003600;
    MemFile f(test::build_queue_file(spec));
    Envelope env;
    ASSERT_TRUE(read_envelope(f.fp, "ID3", env, 10));
    EXPECT_TRUE(env.have_filter);
    EXPECT_EQ(env.filter, "smtp-amavis:[127.0.0.1]:10024");
    EXPECT_EQ(env.warn_time, 1700003600);
    EXPECT_GT(env.warn_offset, 0);
}

TEST(QmgrEnvelope, MissingEndRecordIsRejected) {
    test::LogCapture log;
    QueueFileSpec spec;
    spec.rcpts = {{"x@example.com"}};
    spec.omit_end = true;
    MemFile f(test::build_queue_file(spec));
    Envelope env;
    EXPECT_FALSE(read_envelope(f.fp, "ID4", env, 10));
    EXPECT_TRUE(log.has("warning: ID4: message rejected: missing end record")) << log.all();
    EXPECT_TRUE(env.recipients.empty());
}

TEST(QmgrEnvelope, MissingSenderIsRejected) {
    test::LogCapture log;
    QueueFileSpec spec;
    spec.rcpts = {{"x@example.com"}};
    spec.omit_sender = true;
    MemFile f(test::build_queue_file(spec));
    Envelope env;
    EXPECT_FALSE(read_envelope(f.fp, "ID5", env, 10));
    EXPECT_TRUE(log.has("warning: ID5: message rejected: missing sender record")) << log.all();
}

TEST(QmgrEnvelope, UnexpectedRecordAndGarbage) {
    test::LogCapture log;
    std::string data = queue::encode_record('C', "  1 2 3 0 1 0") + queue::encode_record('Z', "junk");
    MemFile f(data);
    Envelope env;
    EXPECT_FALSE(read_envelope(f.fp, "ID6", env, 10));
    EXPECT_TRUE(log.has("Unexpected record type 'Z' at offset")) << log.all();
    MemFile g(std::string("\x43\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11));
    Envelope env2;
    EXPECT_FALSE(read_envelope(g.fp, "ID7", env2, 10));
    MemFile h{std::string()};
    Envelope env3;
    EXPECT_FALSE(read_envelope(h.fp, "ID8", env3, 10));
}

TEST(QmgrEnvelope, BadSizeRecord) {
    test::LogCapture log;
    std::string data = queue::encode_record('C', "0 0 1");
    MemFile f(data);
    Envelope env;
    EXPECT_FALSE(read_envelope(f.fp, "ID9", env, 10));
    EXPECT_TRUE(log.has("warning: ID9: invalid size record: 0 0 1")) << log.all();
}

}  // namespace
}  // namespace pf::qmgr
