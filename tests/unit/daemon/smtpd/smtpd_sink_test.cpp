// The stand-alone smtpd's postdrop sink (daemon/smtpd/smtpd_sink.h) and
// stdin/stdout transport (smtpd_stdio.h), against a fake postdrop: a shell
// script that speaks the postdrop protocol and keeps what it was sent.
#include "daemon/smtpd/smtpd_sink.h"
#include "daemon/smtpd/smtpd_stdio.h"

#include "queue/record.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using pf::smtpd::MessageSink;
using pf::smtpd::PostdropClient;

struct FakePostdrop {
    std::string dir;
    std::string script;
    std::string saved;

    explicit FakePostdrop(const std::string& body) {
        char tmpl[] = "/tmp/pf-smtpd-sink-XXXXXX";
        dir = ::mkdtemp(tmpl);
        script = dir + "/postdrop";
        saved = dir + "/records";
        std::ofstream(script) << "#!/bin/sh\n" << body;
        ::chmod(script.c_str(), 0755);
    }
    ~FakePostdrop() {
        ::unlink(script.c_str());
        ::unlink(saved.c_str());
        ::rmdir(dir.c_str());
    }
    std::string records() const {
        std::ifstream in(saved, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

std::string record(char type, std::string_view data) {
    // Short records only: one length byte.
    std::string out(1, type);
    out.push_back(static_cast<char>(data.size()));
    out.append(data);
    return out;
}

TEST(SmtpdSink, PostdropGetsTheRecordsAndAnswers) {
    FakePostdrop fake("printf 'protocol\\000postdrop_protocol\\000queue_id\\000ABC123\\000\\000'\n"
                      // The three records below are 22 bytes; postdrop
                      // stops reading at E (the client keeps its end open).
                      "head -c 22 > \"$(dirname \"$0\")/records\"\n"
                      "printf 'status\\0000\\000reason\\000\\000\\000'\n");
    auto opened = PostdropClient::open({fake.script}, {"PATH=/usr/bin:/bin"});
    ASSERT_TRUE(opened.has_value()) << opened.error();
    MessageSink sink(std::move(*opened));
    EXPECT_EQ(sink.queue_id(), "ABC123");
    EXPECT_EQ(sink.cleanup(), nullptr);
    ASSERT_TRUE(sink.write(pf::queue::rec::kFrom, "a@b").has_value());
    ASSERT_TRUE(sink.write_attr("encoding", "8bit").has_value());
    ASSERT_TRUE(sink.write(pf::queue::rec::kEnd, "").has_value());
    auto verdict = sink.finish();
    ASSERT_TRUE(verdict.has_value());
    EXPECT_EQ(verdict->status, 0u);
    EXPECT_EQ(fake.records(), record('S', "a@b") + record('A', "encoding=8bit") + record('E', ""));
}

TEST(SmtpdSink, PostdropWithoutGreetingIsAnError) {
    FakePostdrop fake("exit 1\n");
    auto opened = PostdropClient::open({fake.script}, {});
    EXPECT_FALSE(opened.has_value());
    auto missing = PostdropClient::open({fake.dir + "/nonexistent"}, {});
    EXPECT_FALSE(missing.has_value());
}

TEST(SmtpdSink, MalformedVerdictIsAWriteError) {
    FakePostdrop fake("printf 'protocol\\000postdrop_protocol\\000queue_id\\000Q1\\000\\000'\n"
                      "printf 'garbage'\n");
    auto opened = PostdropClient::open({fake.script}, {});
    ASSERT_TRUE(opened.has_value());
    auto verdict = opened->finish();
    ASSERT_TRUE(verdict.has_value());
    EXPECT_NE(verdict->status, 0u);
}

TEST(SmtpdStdio, RepliesWaitUntilInputIsNeeded) {
    int in[2], out[2];
    ASSERT_EQ(::pipe(in), 0);
    ASSERT_EQ(::pipe(out), 0);
    pf::smtpd::StdioTransport t(in[0], out[1]);
    ASSERT_TRUE(t.write("220 hi\r\n", 8, 5).has_value());
    ::fcntl(out[0], F_SETFL, O_NONBLOCK);
    char buf[64];
    EXPECT_LT(::read(out[0], buf, sizeof buf), 0);   // still buffered
    ASSERT_EQ(::write(in[1], "QUIT\r\n", 6), 6);
    auto n = t.read(buf, sizeof buf, 5);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(std::string(buf, *n), "QUIT\r\n");
    ssize_t got = ::read(out[0], buf, sizeof buf);   // flushed by the read
    ASSERT_EQ(got, 8);
    EXPECT_EQ(std::string(buf, 8), "220 hi\r\n");
    ASSERT_TRUE(t.write("221 bye\r\n", 9, 5).has_value());
    ASSERT_TRUE(t.flush(5).has_value());
    EXPECT_EQ(::read(out[0], buf, sizeof buf), 9);
    ::close(in[1]);
    EXPECT_FALSE(t.read(buf, sizeof buf, 5).has_value());   // end of input
    ::close(in[0]);
    ::close(out[0]);
    ::close(out[1]);
}

}  // namespace
