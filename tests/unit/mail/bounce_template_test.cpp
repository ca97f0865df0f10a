// Unit tests for bounce templates (mail/bounce_template*.h): file reading,
// header/body checks, the dump form and expansion, with expectations taken
// from the reference's observed behaviour ("postconf -t/-b FILE").
#include "mail/bounce_template.h"
#include "mail/bounce_template_expand.h"
#include "mail/bounce_template_file.h"
#include "mail/bounce_parameters.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
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

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        out.emplace_back(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

// Reads content as a template file; returns the entries or the error text.
struct ReadResult {
    std::vector<TemplateFileEntry> entries;
    std::vector<std::string> warnings;
    std::string error;
};
ReadResult read(std::string_view content) {
    ReadResult r;
    Captured c;
    auto ok = read_template_file(
        "bounce.cf", content, [&](TemplateFileEntry&& e) { r.entries.push_back(std::move(e)); }, c.sink());
    if (!ok) r.error = ok.error().text;
    r.warnings = c.warnings;
    return r;
}

TEST(BounceTemplate, BuiltinDumpIsTheReferences) {
    EXPECT_EQ(BounceTemplate::builtin(BounceKind::verify).dump(),
              "verify_template = <<EOF\n"
              "Charset: us-ascii\n"
              "From: Mail Delivery System <MAILER-DAEMON>\n"
              "Subject: Mail Delivery Status Report\n"
              "\n"
              "This is the mail system at host $myhostname.\n"
              "\n"
              "Enclosed is the mail delivery report that you requested.\n"
              "\n"
              "                   The mail system\n"
              "EOF\n");
    const auto& delay = BounceTemplate::builtin(BounceKind::delay);
    EXPECT_EQ(delay.postmaster_subject(), "Postmaster Warning: Delayed Mail");
    EXPECT_EQ(delay.origin(), "[built-in]");
    EXPECT_FALSE(BounceTemplate::builtin(BounceKind::success).has_postmaster_subject());
}

TEST(BounceTemplateFile, HereDocumentsAndPlainValues) {
    auto r = read("# comment\n  \nfailure_template = <<EOF\nFrom: a\n\nbody\nEOF\ndelay_template = one line   \n");
    ASSERT_EQ(r.error, "");
    ASSERT_EQ(r.entries.size(), 2u);
    EXPECT_EQ(r.entries[0].name, "failure_template");
    EXPECT_EQ(r.entries[0].lines, (std::vector<std::string>{"From: a", "", "body"}));
    EXPECT_EQ(r.entries[0].line_number, 8);  // one past the last line read
    EXPECT_EQ(r.entries[1].lines, (std::vector<std::string>{"one line"}));
    EXPECT_TRUE(r.warnings.empty());
}

TEST(BounceTemplateFile, SyntaxErrorsAreFatal) {
    EXPECT_EQ(read("hello world\n").error, "bounce.cf, line 2: missing '=' after attribute name: \"hello world\"");
    EXPECT_EQ(read("= x\n").error, "bounce.cf, line 2: missing attribute name: \"= x\"");
    EXPECT_EQ(read("failure_template = <<   \nx\n").error, "bounce.cf, line 2: missing end marker after <<");
    // No continuation lines.
    EXPECT_EQ(read("failure_template = a\n  b\n").error, "bounce.cf, line 3: missing '=' after attribute name: \"  b\"");
}

TEST(BounceTemplateFile, MissingEndMarker) {
    auto r = read("failure_template = <<EOF\nbody\n");
    ASSERT_EQ(r.entries.size(), 1u);
    EXPECT_EQ(r.entries[0].lines, (std::vector<std::string>{"body"}));
    EXPECT_EQ(r.warnings, (std::vector<std::string>{"bounce.cf, line 3: missing \"EOF\" end marker"}));
    // An unterminated marker line ends the text but still earns the warning.
    r = read("failure_template = <<EOF\nbody\nEOF");
    EXPECT_EQ(r.entries[0].lines, (std::vector<std::string>{"body"}));
    EXPECT_EQ(r.warnings.size(), 1u);
    // Lines stop at a NUL byte.
    static constexpr char kWithNul[] = "failure_template = <<EOF\nbo\0dy\nEOF\0x\n";
    r = read(std::string(kWithNul, sizeof kWithNul - 1));
    EXPECT_EQ(r.entries[0].lines, (std::vector<std::string>{"bo"}));
    EXPECT_TRUE(r.warnings.empty());
}

TEST(BounceTemplateFile, MarkerShownAsTheReferenceShowsIt) {
    // The reference's marker pointer sees later lines of its buffer.
    auto r = read("failure_template = <<EOF\n0123456789012345678901234567890123456789\nshort\n");
    EXPECT_EQ(r.warnings, (std::vector<std::string>{"bounce.cf, line 4: missing \"1234567890123456789\" end marker"}));
    // A line longer than the 100-byte buffer moves it; the marker keeps the
    // first 100 bytes of that line.
    std::string longline;
    for (int i = 0; i < 150; ++i) longline += static_cast<char>('0' + i % 10);
    r = read("failure_template = <<EOF\n" + longline + "\nabcdefghijklmnopqrstuvwxyz\n");
    EXPECT_EQ(r.warnings, (std::vector<std::string>{"bounce.cf, line 4: missing \"" + longline.substr(21, 79) +
                                                    "\" end marker"}));
}

TEST(BounceTemplate, HeadersAndBody) {
    Captured c;
    auto t = BounceTemplate::parse(BounceKind::failure, "bounce.cf",
                                   lines_of("from:: x\nSUBJECT: s  \n\n\nbody\n\nmore"), c.sink());
    ASSERT_TRUE(t);
    EXPECT_EQ(t->charset(), "us-ascii");
    EXPECT_EQ(t->from(), "x");
    EXPECT_EQ(t->subject(), "s  ");
    EXPECT_EQ(t->postmaster_subject(), "Postmaster Copy: Undelivered Mail");
    EXPECT_EQ(t->body(), (std::vector<std::string>{"body", "", "more"}));
    EXPECT_TRUE(c.warnings.empty());

    // A line that is not a header starts the body.
    t = BounceTemplate::parse(BounceKind::failure, "f", lines_of("Dear user: hi\nbody"), c.sink());
    ASSERT_TRUE(t);
    EXPECT_EQ(t->body().front(), "Dear user: hi");
}

TEST(BounceTemplate, BadTemplatesAreIgnored) {
    const std::pair<const char*, const char*> cases[] = {
        {"X-Foo: x\n\nbody", "f: unknown \"X-Foo\" header label in delay template -- ignoring this template"},
        {"From:\t\n\nbody", "f: empty \"From\" header value in delay template -- ignoring this template"},
        {"Subject: \xe9\n\nbody", "f: non-ASCII \"Subject\" header value in delay template -- ignoring this template"},
        {"From: x\n \n", "f: missing message text in delay template -- ignoring this template"},
    };
    for (auto [text, warning] : cases) {
        Captured c;
        EXPECT_FALSE(BounceTemplate::parse(BounceKind::delay, "f", lines_of(text), c.sink())) << text;
        EXPECT_EQ(c.warnings, (std::vector<std::string>{warning})) << text;
    }
    Captured c;
    EXPECT_FALSE(BounceTemplate::parse(BounceKind::success, "f", lines_of("Postmaster-Subject: p\n\nb"), c.sink()));
    EXPECT_EQ(c.warnings.front(), "f: inapplicable \"Postmaster-Subject\" header label in success template -- ignoring this template");
    c.warnings.clear();
    EXPECT_FALSE(BounceTemplate::parse(BounceKind::success, "f", lines_of("Charset: US-ASCII\n\nb\xe9"), c.sink()));
    EXPECT_EQ(c.warnings, (std::vector<std::string>{"f: 8-bit message text in success template",
                                                    "please specify a charset value other than us-ascii",
                                                    "-- ignoring this template for now"}));
    EXPECT_TRUE(BounceTemplate::parse(BounceKind::success, "f", lines_of("Charset: utf-8\n\nb\xe9"), c.sink()));
}

TEST(BounceTemplates, LoadKeepsBuiltinsForMissingOrBadTemplates) {
    char path[] = "/tmp/bounce_template_test.XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    std::string content = "failure_template = <<EOF\nX-Bad: x\n\nb\nEOF\nsuccess_template = ok\nfoo_template = x\n";
    ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(fd);
    Captured c;
    auto loaded = BounceTemplates::load(path, c.sink());
    std::remove(path);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->find(BounceKind::failure).origin(), "[built-in]");
    EXPECT_EQ(loaded->find(BounceKind::success).body(), (std::vector<std::string>{"ok"}));
    ASSERT_EQ(c.warnings.size(), 2u);
    EXPECT_EQ(c.warnings[0], std::string(path) + ", line 8: unknown template name: foo_template -- ignoring this template");

    auto missing = BounceTemplates::load("/nonexistent/bounce.cf");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().text, "open /nonexistent/bounce.cf: No such file or directory");
}

class Expansion : public ::testing::Test {
protected:
    Expansion() : config_("/nonexistent") {
        config_.set_override("delay_warning_time", "2d");
        config_.set_override("userdef", "$mail_name at ${nosuch}");
    }
    std::string expand(std::string_view line, std::string* error = nullptr) {
        auto t = BounceTemplate::parse(BounceKind::delay, "bounce.cf", {"x"});
        auto r = TemplateExpander(config_).expand_line(*t, line, captured_.sink());
        if (!r) {
            if (error) *error = r.error().text;
            return "<error>";
        }
        return *r;
    }
    config::Config config_;
    Captured captured_;
};

TEST_F(Expansion, NamesAndTimeUnits) {
    EXPECT_EQ(expand("$mail_name ${mail_name?yes} ${nosuch:no} $$"), "Postfix yes no $");
    EXPECT_EQ(expand("$userdef"), "Postfix at ");
    EXPECT_EQ(expand("$delay_warning_time_hours h, $delay_warning_time_days d"), "48 h, 2 d");
    EXPECT_TRUE(captured_.warnings.empty());
    EXPECT_EQ(expand("$delay_warning_time_minutes"), "2880");
    EXPECT_EQ(captured_.warnings,
              (std::vector<std::string>{
                  "bounce.cf: excessive result \"2880\" in delay template conversion of parameter \"delay_warning_time_minutes\"",
                  "please increase time unit \"minutes\" of \"delay_warning_time_minutes\" in delay template",
                  "for instructions see the bounce(5) manual"}));
    captured_.warnings.clear();
    EXPECT_EQ(expand("$delay_warning_time_weeks"), "0");
    EXPECT_EQ(captured_.warnings.front(),
              "bounce.cf: zero result in delay template conversion of parameter \"delay_warning_time_weeks\"");
}

TEST_F(Expansion, Errors) {
    std::string error;
    expand("a $smtpd_banner b", &error);  // a parameter the bounce daemon does not read
    EXPECT_EQ(error, "bounce.cf: undefined $name in delay template: a $smtpd_banner b");
    expand("${mail_name?$nosuch}", &error);
    EXPECT_EQ(error, "bounce.cf: undefined $name in delay template: ${mail_name?$nosuch}");
    expand("$delay_warning_time_Days", &error);
    EXPECT_EQ(error, "bounce.cf: unrecognized suffix \"Days\" in parameter \"delay_warning_time_Days\"");
    util::msg_set_quiet(true);
    expand("$nosuch ${a-b}", &error);
    util::msg_set_quiet(false);
    EXPECT_EQ(error, "bounce.cf: bad $name syntax in delay template: $nosuch ${a-b}");
}

TEST(BounceParameters, SortedAndKnown) {
    auto names = bounce_parameter_names();
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    EXPECT_TRUE(bounce_knows_parameter("myhostname"));
    EXPECT_TRUE(bounce_knows_parameter("service_name"));
    EXPECT_FALSE(bounce_knows_parameter("smtpd_banner"));
}

}  // namespace
}  // namespace pf::mail
