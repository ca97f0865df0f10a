// Unit tests of the smtp client's content rewriting (SmtpContent): the
// 8-bit to 7-bit downgrade with the texts the reference sends, and
// smtp_generic_maps on primary address headers.
#include "daemon/smtp/smtp_content.h"

#include "dict/dict.h"
#include "mail/maps.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pf::smtp_agent {
namespace {

std::string run(const std::vector<std::string>& lines, ContentOptions opts) {
    std::string out;
    SmtpContent c(std::move(opts), [&](std::string_view l) {
        out += l;
        out += '\n';
    });
    for (const auto& l : lines) c.line(l);
    c.end();
    return out;
}

ContentOptions downgrade() {
    ContentOptions o;
    o.downgrade = true;
    return o;
}

TEST(SmtpContent, QuotedPrintableLine) {
    auto l = quoted_printable_line("latin1 \xe9t\xe9 = equals, trailing space ");
    ASSERT_EQ(l.size(), 1u);
    EXPECT_EQ(l[0], "latin1 =E9t=E9 =3D equals, trailing space=20");
    std::string longline;
    for (int i = 0; i < 20; ++i) longline += "long ";
    longline += "\xe9";
    l = quoted_printable_line(longline);
    ASSERT_EQ(l.size(), 2u);
    EXPECT_EQ(l[0], "long long long long long long long long long long long long long long lon=");
    EXPECT_EQ(l[1], "g long long long long long =E9");
    EXPECT_EQ(quoted_printable_line("")[0], "");
    EXPECT_EQ(quoted_printable_line("tab\t")[0], "tab=09");
}

TEST(SmtpContent, NonMimeMessagePassesUnchanged) {
    std::vector<std::string> in = {"Subject: plain", "", "latin1 \xe9t\xe9"};
    EXPECT_EQ(run(in, downgrade()), "Subject: plain\n\nlatin1 \xe9t\xe9\n");
}

TEST(SmtpContent, EightBitLeafBecomesQuotedPrintable) {
    std::vector<std::string> in = {"Subject: mime", "MIME-Version: 1.0",
                                   "Content-Type: text/plain; charset=iso-8859-1",
                                   "Content-Transfer-Encoding: 8bit", "Date: x", "", "\xe9t\xe9 =", "."};
    EXPECT_EQ(run(in, downgrade()),
              "Subject: mime\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nDate: x\n"
              "Content-Transfer-Encoding: quoted-printable\n\n=E9t=E9 =3D\n.\n");
    // Without the downgrade nothing changes.
    EXPECT_EQ(run(in, ContentOptions{}),
              "Subject: mime\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
              "Content-Transfer-Encoding: 8bit\nDate: x\n\n\xe9t\xe9 =\n.\n");
}

TEST(SmtpContent, MultipartPartsConvertedOneByOne) {
    std::vector<std::string> in = {"Subject: multi",
                                   "Content-Type: multipart/mixed;",
                                   "\tboundary=\"XX\"",
                                   "",
                                   "preamble \xe9",
                                   "--XX",
                                   "Content-Type: text/plain",
                                   "Content-Transfer-Encoding: 8bit",
                                   "",
                                   "part \xe9",
                                   "--XX",
                                   "Content-Type: text/plain",
                                   "",
                                   "seven \xe9",
                                   "--XX--",
                                   "epilogue"};
    EXPECT_EQ(run(in, downgrade()),
              "Subject: multi\nContent-Type: multipart/mixed;\n\tboundary=\"XX\"\n\npreamble \xe9\n--XX\n"
              "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\npart =E9\n--XX\n"
              "Content-Type: text/plain\n\nseven \xe9\n--XX--\nepilogue\n");
}

TEST(SmtpContent, EightBitMultipartDeclaredSevenBit) {
    std::vector<std::string> in = {"Content-Type: multipart/mixed; boundary=b", "Content-Transfer-Encoding: 8bit",
                                   "", "--b", "", "x", "--b--"};
    EXPECT_EQ(run(in, downgrade()),
              "Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: 7bit\n\n--b\n\nx\n--b--\n");
}

TEST(SmtpContent, GenericMapsRewritePrimaryAddressHeaders) {
    ContentOptions o;
    o.generic = [](const std::string& a) -> std::optional<std::string> {
        if (a == "root@host.local") return std::string("admin@example.com");
        return std::nullopt;
    };
    std::vector<std::string> in = {"From: Root <root@host.local>", "To: other@example.org",
                                   "Subject: root@host.local", "", "root@host.local"};
    EXPECT_EQ(run(in, o),
              "From: Root <admin@example.com>\nTo: other@example.org\nSubject: root@host.local\n\n"
              "root@host.local\n");
}

TEST(SmtpContent, HeaderAndBodyChecksActions) {
    auto headers = mail::Maps::open("smtp_header_checks",
                                    "regexp:{ {/^Subject: secret/ REPLACE Subject: hidden}, {/^X-Drop:/ IGNORE}, "
                                    "{/^X-Strip:/ STRIP gone}, {/^X-Pre:/ PREPEND X-Added: yes}, "
                                    "{/^X-Rej:/ REJECT no}, {/^X-Bad:/ REPLACE no header} }",
                                    dict::kLock);
    ASSERT_TRUE(headers.has_value()) << headers.error();
    auto body = mail::Maps::open("smtp_body_checks", "regexp:{ {/^secret/ REPLACE public}, {/^drop/ IGNORE} }",
                                 dict::kLock);
    ASSERT_TRUE(body.has_value()) << body.error();
    ContentOptions o;
    o.header_checks = &*headers;
    o.body_checks = &*body;
    o.queue_id = "4ABC";
    std::vector<std::string> in = {"Subject: secret x", "X-Drop: 1", "X-Strip: 2", "X-Pre: 3", "X-Rej: 4",
                                   "X-Bad: 5", "", "secret line", "drop line", "keep"};
    EXPECT_EQ(run(in, o), "Subject: hidden\nX-Added: yes\nX-Pre: 3\nX-Rej: 4\nX-Bad: 5\n\npublic\nkeep\n");
}

}  // namespace
}  // namespace pf::smtp_agent
