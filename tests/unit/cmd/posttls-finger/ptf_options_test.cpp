// Unit tests of posttls-finger's option parsing (cmd/posttls-finger/
// ptf_options): defaults, the options that take values, "-H" joining,
// "-k"/"-K" defaulting to each other, option parsing ending at the
// destination, the level and -M checks, and the fatal texts.
#include "cmd/posttls-finger/ptf_options.h"
#include "tls/tls_log.h"
#include "util/msg.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace pf::ptf {
namespace {

Options parse(std::vector<std::string> args) {
    std::vector<char*> argv;
    args.insert(args.begin(), "posttls-finger");
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    optind = 0;   // glibc: start over (and re-read the '+')
    return parse_options(static_cast<int>(args.size()), argv.data());
}

std::string fatal_of(std::vector<std::string> args) {
    util::msg_fatal_throws(true);
    util::msg_set_quiet(true);
    std::string text;
    try {
        (void)parse(std::move(args));
    } catch (const util::FatalError& e) {
        text = e.text;
    }
    util::msg_set_quiet(false);
    util::msg_fatal_throws(false);
    return text;
}

TEST(PtfOptions, Defaults) {
    Options o = parse({"[127.0.0.1]:25"});
    EXPECT_TRUE(o.smtp);
    EXPECT_EQ(o.level, tls::Level::kDane);
    EXPECT_EQ(o.protocols, ">=TLSv1");
    EXPECT_EQ(o.grade, "medium");
    EXPECT_EQ(o.conn_tmout, 30);
    EXPECT_EQ(o.reconnect, -1);
    EXPECT_EQ(o.max_reconnect, 5);
    EXPECT_EQ(o.log_mask, unsigned(tls::kLogSummary | tls::kLogCertMatch));
    ASSERT_EQ(o.args.size(), 1u);
}

TEST(PtfOptions, ValuesAndMatchArguments) {
    Options o = parse({"-c", "-l", "secure", "-F", "ca.pem", "-s", "mx.example", "-H", "a.pem", "-H", "b.pem",
                       "-r", "2", "-m", "3", "-o", "myhostname = x.example", "dest", "-l", "name"});
    EXPECT_TRUE(o.nochat);
    EXPECT_EQ(o.level, tls::Level::kSecure);
    EXPECT_EQ(o.CAfile, "ca.pem");
    EXPECT_EQ(o.sni, "mx.example");
    EXPECT_EQ(o.chains, "a.pem, b.pem");
    EXPECT_EQ(o.reconnect, 2);
    EXPECT_EQ(o.max_reconnect, 3);
    ASSERT_EQ(o.overrides.size(), 1u);
    EXPECT_EQ(o.overrides[0].first, "myhostname");
    EXPECT_EQ(o.overrides[0].second, "x.example");
    // Options end at the destination: "-l" after it is a match argument.
    EXPECT_EQ(o.args, (std::vector<std::string>{"dest", "-l", "name"}));
}

TEST(PtfOptions, CertAndKeyDefaultToEachOther) {
    Options k = parse({"-k", "c.pem", "d"});
    EXPECT_EQ(k.certfile, "c.pem");
    EXPECT_EQ(k.keyfile, "c.pem");
    Options kk = parse({"-K", "k.pem", "-k", "c.pem", "d"});
    EXPECT_EQ(kk.certfile, "c.pem");
    EXPECT_EQ(kk.keyfile, "k.pem");
}

TEST(PtfOptions, LevelNone) {
    Options o = parse({"-l", "none", "d"});
    EXPECT_TRUE(o.tls_disabled);
}

TEST(PtfOptions, FatalTexts) {
    EXPECT_EQ(fatal_of({"-l", "bogus", "d"}), "Invalid TLS level \"bogus\"");
    EXPECT_EQ(fatal_of({"-a", "ipv5", "d"}), "bad '-a' option value: ipv5");
    EXPECT_EQ(fatal_of({"-X", "-r", "1", "d"}), "The -X and -r options are mutually exclusive");
    EXPECT_EQ(fatal_of({"-M", "verify", "d"}), "bad '-M' option value: verify");
    EXPECT_EQ(fatal_of({"-w", "-l", "none", "d"}), "SSL wrapper mode requires that TLS not be disabled");
    EXPECT_EQ(fatal_of({"-H", "a", "-k", "b", "d"}),
              "When the '-H' option is used, neither the '-k', nor the '-K' options may be used");
    EXPECT_EQ(fatal_of({"-h", "nis", "d"}), "unknown -h option value \"nis\" in \"nis\"");
}

}  // namespace
}  // namespace pf::ptf
