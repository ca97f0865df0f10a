// rmail(8)'s From line parser and sendmail arguments, against what the
// reference's rmail -T prints for the same lines (observed).
#include "cmd/rmail/rmail_from.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::rmail {
namespace {

struct Parsed {
    Envelope envelope;
    std::string debug;
    std::string error;
    int exit_code = 0;
};

Parsed parse_lines(const std::vector<std::string>& lines) {
    Parsed p;
    for (const std::string& line : lines) {
        auto r = parse_from_line(line, p.envelope, &p.debug);
        if (!r) {
            p.error = r.error().message;
            p.exit_code = r.error().exit_code;
            break;
        }
    }
    return p;
}

std::vector<std::string> args_of(const Envelope& e, std::string_view domain = "UUCP",
                                 std::vector<std::string> rcpt = {"u"}) {
    auto a = build_sendmail_args(e, domain, rcpt);
    EXPECT_TRUE(a.has_value());
    return a ? *a : std::vector<std::string>{};
}

TEST(RmailFromTest, ClassifiesLines) {
    EXPECT_EQ(classify("From a"), LineKind::from);
    EXPECT_EQ(classify(">From a"), LineKind::forward);
    EXPECT_EQ(classify("From:a"), LineKind::other);
    EXPECT_EQ(classify("From\ta"), LineKind::other);
    EXPECT_EQ(classify(">>From a"), LineKind::other);
    EXPECT_EQ(classify(""), LineKind::other);
}

TEST(RmailFromTest, RemoteFromLines) {
    Parsed p = parse_lines({"From alice Tue Jan  1 00:00:00 2020 remote from sysa",
                            ">From bob Mon remote from sysb.example"});
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.debug,
              "remote from: sysa\nfrom_sys: sysa\nfrom_path: sysa!\nfrom_user: alice\n"
              "remote from: sysb.example\nfrom_path: sysa!sysb.example!\nfrom_user: bob\n");
    auto a = args_of(p.envelope, "UUCP", {"u1", "u2"});
    std::vector<std::string> want{"/usr/lib/sendmail", "-G", "-oee", "-odq", "-oi", "-pUUCP:sysa.UUCP",
                                  "-fsysa!sysb.example!bob", "u1", "u2"};
    EXPECT_EQ(a, want);
}

TEST(RmailFromTest, BangPath) {
    Parsed p = parse_lines({"From a!b!c Tue"});
    EXPECT_EQ(p.debug, "bang: a!b\nfrom_sys: a!b\nfrom_path: a!b!\nfrom_user: c\n");
    EXPECT_EQ(args_of(p.envelope)[5], "-pUUCP:a!b.UUCP");
    EXPECT_EQ(args_of(p.envelope)[6], "-fa!b!c");
}

TEST(RmailFromTest, LastBangMayBeInTheDate) {
    Parsed p = parse_lines({"From a!b Tue!x Jan"});
    EXPECT_EQ(p.debug, "bang: a!b Tue\nfrom_sys: a!b\nfrom_path: a!b!\nfrom_user: x\n");
}

TEST(RmailFromTest, RemoteFromWinsOverBangs) {
    Parsed p = parse_lines({"From a!b remote from x!y"});
    EXPECT_EQ(p.debug, "remote from: x!y\nfrom_sys: x!y\nfrom_path: x!y!\nfrom_user: a!b\n");
}

TEST(RmailFromTest, RemoteFromAtTheFirstByteIsNotSeen) {
    Parsed p = parse_lines({"From remote from site"});
    EXPECT_EQ(p.debug, "from_user: remote\n");
    Parsed q = parse_lines({"From xremote from site"});
    EXPECT_EQ(q.debug, "remote from: site\nfrom_sys: site\nfrom_path: site!\nfrom_user: xremote\n");
}

TEST(RmailFromTest, EmptyRemoteSite) {
    Parsed p = parse_lines({"From a Tue remote from "});
    EXPECT_EQ(p.debug, "remote from: \nfrom_sys: \nfrom_path: !\nfrom_user: a\n");
    auto a = args_of(p.envelope);
    EXPECT_EQ(a[5], "-pUUCP:.UUCP");
    EXPECT_EQ(a[6], "-f!a");
}

TEST(RmailFromTest, Errors) {
    Parsed p = parse_lines({"From !x Tue"});
    EXPECT_EQ(p.error, "bang starts address: !x Tue");
    EXPECT_EQ(p.exit_code, kExDataErr);
    // The message shows the line cut at the last bang.
    p = parse_lines({"From abc Tue!"});
    EXPECT_EQ(p.error, "corrupted From line: From abc Tue");
    p = parse_lines({"From "});
    EXPECT_EQ(p.error, "corrupted From line: From ");
    p = parse_lines({"From a", ">From "});
    EXPECT_EQ(p.error, "corrupted From line: >From ");
}

TEST(RmailFromTest, EmptyUserIsNullSender) {
    Parsed p = parse_lines({"From  Tue"});
    EXPECT_EQ(p.debug, "from_user: <>\n");
    EXPECT_EQ(args_of(p.envelope)[5], "-pUUCP");
    EXPECT_EQ(args_of(p.envelope)[6], "-f<>");
    p = parse_lines({"From a! Tue"});
    EXPECT_EQ(p.debug, "bang: a\nfrom_sys: a\nfrom_path: a!\nfrom_user: <>\n");
}

TEST(RmailFromTest, WordsEndAtAsciiBlanksOnly) {
    Parsed p = parse_lines({"From a\rb Tue remote from s\vt"});
    EXPECT_EQ(p.envelope.from_sys, "s");
    EXPECT_EQ(p.envelope.from_user, "a");
    p = parse_lines({"From \xe9\xff!u\x80 Tue"});
    EXPECT_EQ(p.envelope.from_sys, "\xe9\xff");
    EXPECT_EQ(p.envelope.from_user, "u\x80");
}

TEST(RmailFromTest, DomainAndDots) {
    Parsed p = parse_lines({"From a remote from host.example"});
    EXPECT_EQ(args_of(p.envelope, "BITNET")[5], "-pBITNET:host.example");
    p = parse_lines({"From a remote from host"});
    EXPECT_EQ(args_of(p.envelope, "BITNET")[5], "-pBITNET:host.BITNET");
}

TEST(RmailFromTest, ArgumentsAreCutAt2047Bytes) {
    Parsed p = parse_lines({"From a remote from " + std::string(1500, 's'), ">From b remote from " + std::string(1500, 't')});
    auto a = args_of(p.envelope);
    EXPECT_EQ(a[6].size(), 2047u);
    EXPECT_EQ(a[6].substr(0, 3), "-fs");
    EXPECT_EQ(args_of(p.envelope, std::string(3000, 'd'))[5].size(), 2047u);
}

TEST(RmailFromTest, Recipients) {
    Envelope e;
    e.from_user = "a";
    auto a = build_sendmail_args(e, "UUCP", {"a,b", "c<d,e>", "@x,@y:z", "plain", ""});
    ASSERT_TRUE(a.has_value());
    std::vector<std::string> tail(a->begin() + 7, a->end());
    EXPECT_EQ(tail, (std::vector<std::string>{"<a,b>", "c<d,e>", "<@x,@y:z>", "plain", ""}));
    auto bad = build_sendmail_args(e, "UUCP", {"ok", "-bad"});
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().exit_code, kExUsage);
    EXPECT_EQ(bad.error().message, "dash precedes argument: -bad");
}

TEST(RmailFromTest, ManyHopsBuildOnePath) {
    Envelope e;
    std::string debug;
    ASSERT_TRUE(parse_from_line("From u0 remote from s0", e, nullptr));
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(parse_from_line(">From u remote from h", e, &debug));
    EXPECT_EQ(e.from_sys, "s0");
    EXPECT_EQ(e.from_path.size(), 3u + 100u * 2u);
    EXPECT_EQ(e.from_user, "u");
}

}  // namespace
}  // namespace pf::rmail
