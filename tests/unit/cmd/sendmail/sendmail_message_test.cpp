// sendmail's record stream (sendmail_message.h): envelope order, line
// cutting, the dot, From_ lines, line endings, -t extraction, -bv, and one
// message compared byte for byte with a maildrop file that the
// reference's sendmail + postdrop wrote (less postdrop's time record).
#include "cmd/sendmail/sendmail_message.h"

#include "queue/record.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace pf::sendmail {
namespace {

struct Rec {
    char type;
    std::string data;
    bool operator==(const Rec&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Rec& r) { return os << r.type << " '" << r.data << "'"; }

struct Run {
    std::vector<Rec> recs;
    std::expected<int, CopyError> envelope = 0;
    std::expected<int, CopyError> content = 0;
};

Run run(const Envelope& env, const CopyOptions& opts, const std::string& input) {
    Run out;
    RecordSink sink = [&](char t, std::string_view d) {
        out.recs.push_back({t, std::string(d)});
        return true;
    };
    std::FILE* in = ::fmemopen(const_cast<char*>(input.data()), input.size(), "r");
    if (input.empty()) in = std::fopen("/dev/null", "r");
    out.envelope = write_envelope(env, sink);
    if (out.envelope) out.content = copy_content(in, env, opts, sink);
    std::fclose(in);
    return out;
}

// The content records only (between M and X, exclusive).
std::vector<Rec> content(const Run& r) {
    std::vector<Rec> out;
    bool in = false;
    for (const auto& rec : r.recs) {
        if (rec.type == 'M') { in = true; continue; }
        if (rec.type == 'X') break;
        if (in) out.push_back(rec);
    }
    return out;
}

Envelope basic() {
    Envelope env;
    env.sender = "root";
    env.recipients = {"u"};
    return env;
}

TEST(SendmailMessage, EnvelopeOrderWithEveryOption) {
    Envelope env;
    env.sender = "o@x";
    env.full_name = "nm";
    env.rewrite_context = "remote";
    env.encoding = "7bit";
    env.dsn_envid = "id";
    env.dsn_ret = 1;
    env.dsn_notify = 4;
    env.trace_flags = 1024;
    env.verp = "+=";
    env.recipients = {"u", "a, b <c>"};
    auto r = run(env, {}, "x\n");
    std::vector<Rec> want{{'A', "envelope_id=id"}, {'A', "ret_flags=1"}, {'A', "rewrite_context=remote"},
                          {'F', "nm"},             {'S', "o@x"},        {'A', "encoding=7bit"},
                          {'A', "trace_flags=1024"}, {'V', "+="},        {'A', "notify_flags=4"},
                          {'R', "u"},              {'A', "notify_flags=4"}, {'R', "a"},
                          {'A', "notify_flags=4"}, {'R', "c"},          {'M', ""},
                          {'N', "x"},              {'X', ""}};
    EXPECT_EQ(r.recs, want);
    EXPECT_EQ(*r.envelope, 3);
}

TEST(SendmailMessage, EmptyRecipientArgumentsGiveEmptyRecords) {
    Envelope env = basic();
    env.recipients = {"<>", ""};
    auto r = run(env, {}, "");
    ASSERT_TRUE(r.envelope);
    EXPECT_EQ(*r.envelope, 2);
    EXPECT_EQ(r.recs[2], (Rec{'R', ""}));
    EXPECT_EQ(r.recs[3], (Rec{'R', ""}));
}

TEST(SendmailMessage, VerpNeedsASender) {
    Envelope env = basic();
    env.sender = "";
    env.verp = "+=";
    auto r = run(env, {}, "");
    ASSERT_FALSE(r.envelope);
    EXPECT_EQ(r.envelope.error().text, "-V option requires non-null sender address");
}

TEST(SendmailMessage, LinesAreCutAtTheLimit) {
    CopyOptions opts;
    opts.line_limit = 4;
    auto r = run(basic(), opts, "abcdefghij\nabcd\nxy");
    std::vector<Rec> want{{'L', "abcd"}, {'L', "efgh"}, {'N', "ij"}, {'L', "abcd"}, {'N', ""}, {'L', "xy"}};
    EXPECT_EQ(content(r), want);
}

TEST(SendmailMessage, DotEndsInputUnlessDashI) {
    auto r = run(basic(), {}, "a\n.\nb\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "a"}}));
    CopyOptions opts;
    opts.archaic_eof = false;
    r = run(basic(), opts, "a\n.\nb\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "a"}, {'N', "."}, {'N', "b"}}));
    // A dot that continues a cut line is content.
    opts = {};
    opts.line_limit = 2;
    r = run(basic(), opts, "ab.\nx\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'L', "ab"}, {'N', "."}, {'N', "x"}}));
}

TEST(SendmailMessage, LeadingFromLinesAreDropped) {
    auto r = run(basic(), {}, "From me\n>From x\nSubject: y\nFrom z\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "Subject: y"}, {'N', "From z"}}));
}

TEST(SendmailMessage, LineEndings) {
    auto r = run(basic(), {}, "a\r\nb\r\r\n.\r\nc\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "a"}, {'N', "b"}}));
    CopyOptions strict;
    strict.fix_eol = FixEol::strict;
    r = run(basic(), strict, "a\nb\r\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "a"}, {'N', "b\r"}}));
    r = run(basic(), strict, "a\r\nb\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "a"}, {'N', "b"}}));
    CopyOptions never;
    never.fix_eol = FixEol::never;
    r = run(basic(), never, "a\r\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "a\r"}}));
}

TEST(SendmailMessage, NulBytesPassThrough) {
    std::string input("a\0b\n", 4);
    auto r = run(basic(), {}, input);
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', std::string("a\0b", 3)}}));
}

TEST(SendmailMessage, ExtractRecipients) {
    CopyOptions opts;
    opts.extract = true;
    Envelope env = basic();
    env.recipients.clear();
    env.dsn_notify = 8;
    auto r = run(env, opts, "To: a,\n b\nCc: <>, c\nSubject : x\nBcc: d\n\nbody\n");
    ASSERT_TRUE(r.content);
    EXPECT_EQ(*r.content, 4);
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "To: a,"}, {'N', " b"}, {'N', "Cc: <>, c"}, {'N', "Subject: x"},
                                            {'N', "Bcc: d"}, {'N', ""}, {'N', "body"}}));
    std::vector<Rec> tail(r.recs.end() - 8, r.recs.end());
    EXPECT_EQ(tail, (std::vector<Rec>{{'A', "notify_flags=8"}, {'R', "a"}, {'A', "notify_flags=8"}, {'R', "b"},
                                      {'A', "notify_flags=8"}, {'R', "c"}, {'A', "notify_flags=8"}, {'R', "d"}}));
}

TEST(SendmailMessage, ResentHeadersWin) {
    CopyOptions opts;
    opts.extract = true;
    auto r = run(basic(), opts, "To: a\nResent-To: r1\nTo: z\nResent-Bcc: r2\n\nb\n");
    std::vector<std::string> rcpts;
    bool after_x = false;
    for (auto& rec : r.recs) {
        if (rec.type == 'X') after_x = true;
        else if (after_x && rec.type == 'R') rcpts.push_back(rec.data);
    }
    EXPECT_EQ(rcpts, (std::vector<std::string>{"r1", "r2"}));
}

TEST(SendmailMessage, ExtractInsertsEmptyLineAfterHeadersEndingAtText) {
    CopyOptions opts;
    opts.extract = true;
    auto r = run(basic(), opts, "To: a\nbody\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "To: a"}, {'N', ""}, {'N', "body"}}));
    r = run(basic(), opts, "To: a\n\nno eol");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "To: a"}, {'N', ""}, {'L', "no eol"}, {'N', ""}}));
    r = run(basic(), opts, "To: a");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "To: a"}}));
}

TEST(SendmailMessage, ExtractHeaderLimit) {
    CopyOptions opts;
    opts.extract = true;
    opts.header_limit = 8;
    auto r = run(basic(), opts, "To: a,\n b,\n c\n\nx\n");
    ASSERT_FALSE(r.content);
    EXPECT_EQ(r.content.error().text, "unable to extract recipients: message header length exceeds safety limit");
}

TEST(SendmailMessage, Probe) {
    CopyOptions opts;
    opts.probe = true;
    Envelope env = basic();
    env.recipients = {"u", "v"};
    auto r = run(env, opts, "ignored\n");
    EXPECT_EQ(content(r), (std::vector<Rec>{{'N', "From: root"}, {'N', "Subject: probe"}, {'L', "To:"},
                                            {'N', "\tu,"}, {'N', "\tv"}}));
}

TEST(SendmailMessage, DsnWords) {
    EXPECT_EQ(dsn_notify_mask("success,delay"), 10);
    EXPECT_EQ(dsn_notify_mask("NEVER"), 1);
    EXPECT_EQ(dsn_notify_mask("never,success"), 0);
    EXPECT_EQ(dsn_notify_mask("failure"), 4);
    EXPECT_EQ(dsn_ret_code("hdrs"), 2);
    EXPECT_EQ(dsn_ret_code("FULL"), 1);
    EXPECT_EQ(dsn_ret_code("x"), 0);
}

// Written by the reference's sendmail + postdrop for:
//   printf 'Subject: ref\nTo: x@example.com\n\n\tbody\nno eol' |
//   sendmail -f alice@example.com -N delay -V env1 -B 8BITMIME -t bob@example.com
// (postdrop's T record first).
const char kReferenceMaildrop[] =
    "T\x11" "1795838275 172910"
    "A\x10" "envelope_id=env1" "A\x15" "rewrite_context=local" "F\x04" "root" "S\x11" "alice@example.com"
    "A\x0d" "encoding=8bit" "A\x0e" "notify_flags=8" "R\x0f" "bob@example.com" "M\x00"
    "N\x0c" "Subject: ref" "N\x11" "To: x@example.com" "N\x00" "N\x05" "\tbody" "L\x06" "no eol" "N\x00"
    "X\x00" "A\x0e" "notify_flags=8" "R\x0d" "x@example.com" "E\x00";

TEST(SendmailMessage, SameRecordsAsTheReference) {
    Envelope env;
    env.sender = "alice@example.com";
    env.full_name = "root";
    env.dsn_notify = 8;
    env.dsn_envid = "env1";
    env.encoding = "8bit";
    env.recipients = {"bob@example.com"};
    CopyOptions opts;
    opts.extract = true;
    std::string ours;
    RecordSink sink = [&](char t, std::string_view d) {
        queue::append_record(ours, t, d);
        return true;
    };
    std::string input = "Subject: ref\nTo: x@example.com\n\n\tbody\nno eol";
    std::FILE* in = ::fmemopen(input.data(), input.size(), "r");
    ASSERT_TRUE(write_envelope(env, sink));
    ASSERT_TRUE(copy_content(in, env, opts, sink));
    std::fclose(in);
    queue::append_record(ours, 'E', "");
    std::string reference(kReferenceMaildrop, sizeof kReferenceMaildrop - 1);
    // Less the T record postdrop writes: 2 + 17 bytes.
    EXPECT_EQ(ours, reference.substr(19));
}

}  // namespace
}  // namespace pf::sendmail
