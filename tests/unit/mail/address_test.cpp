// The address library: tokenizer, header list parser, local-part quoting,
// numeric host checks, IDNA, table stand-ins, against the reference's
// observed results.
#include "dict/dict_utf8.h"
#include "mail/address_domain_list.h"
#include "mail/address_fold.h"
#include "mail/address_hostaddr.h"
#include "mail/address_idna.h"
#include "mail/address_maps.h"
#include "mail/address_surrogate.h"
#include "mail/address_list.h"
#include "mail/address_quote.h"
#include "mail/address_token.h"

#include "util/msg.h"

#include <fcntl.h>
#include <gtest/gtest.h>

using namespace pf::mail;

TEST(AddressQuote, QuoteAndUnquote) {
    struct Case { const char* internal; const char* external; };
    const Case cases[] = {
        {"a@b@c@d", "\"a@b@c\"@d"},
        {"", "\"\""},
        {"user@example.com", "user@example.com"},
        {"first last@example.com", "\"first last\"@example.com"},
        {".user@x", "\".user\"@x"},
        {"a..b@x", "\"a..b\"@x"},
        {"user.@x", "\"user.\"@x"},
        {"a\"b@x", "\"a\\\"b\"@x"},
        {"a\\b@x", "\"a\\\\b\"@x"},
        {"user%relay@x", "user%relay@x"},
        {"r!user@x", "r!user@x"},
        {"@a,@b:user@x", "@a,@b:user@x"},
        {"@a:first last@x", "@a:\"first last\"@x"},
        {"caf\xc3\xa9@x", "caf\xc3\xa9@x"},
        {"nodomain", "nodomain"},
        {"no domain", "\"no domain\""},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(quote_822_local(c.internal), c.external) << c.internal;
        EXPECT_EQ(unquote_822_local(c.external), c.internal) << c.external;
    }
    EXPECT_EQ(quote_822_local("a@b@c@d", kQuote8BitClean | kQuoteBareLocalpart), "\"a@b@c@d\"");
    EXPECT_EQ(unquote_822_local("\"a@b@c\""), "a@b@c");
    EXPECT_EQ(unquote_822_local("\"a@b@c\"@d@e"), "a@b@c@d@e");
    EXPECT_EQ(quote_822_local("caf\xc3\xa9@x", 0u), "\"caf\\\xc3\\\xa9\"@x");
}

TEST(AddressToken, ScanKinds) {
    auto t = scan_822("\"a b\" (c (d)) [1.2.3.4] x\\ y % ! | <@>");
    ASSERT_EQ(t.size(), 10u);
    EXPECT_EQ(t[0].kind, TokenKind::quoted_string);
    EXPECT_EQ(t[0].text, "a b");
    EXPECT_EQ(t[1].kind, TokenKind::comment);
    EXPECT_EQ(t[1].text, "(c (d))");
    EXPECT_EQ(t[2].kind, TokenKind::domain_literal);
    EXPECT_EQ(t[2].text, "1.2.3.4");
    EXPECT_EQ(t[3].kind, TokenKind::quoted_string);  // an atom with a blank
    EXPECT_EQ(t[3].text, "x y");
    EXPECT_TRUE(t[4].is_special('%'));
    EXPECT_TRUE(t[5].is_special('!'));
    EXPECT_TRUE(t[6].is_special('|'));
    // Unterminated forms run to the end.
    auto u = scan_822("\"wietse venema");
    ASSERT_EQ(u.size(), 1u);
    EXPECT_EQ(u[0].text, "wietse venema");
    EXPECT_EQ(scan_822("a b c", 2).size(), 2u);
}

namespace {
struct ListCase {
    const char* input;
    const char* internal;
    const char* external;
};
}  // namespace

// Inputs and results as the reference's parser test shows them.
TEST(AddressList, ReferenceParses) {
    const ListCase cases[] = {
        {"wietse@porcupine.org", "wietse@porcupine.org", "wietse@porcupine.org"},
        {"\"wietse venema\"@porcupine.org", "wietse venema@porcupine.org", "\"wietse venema\"@porcupine.org"},
        {"wietse @ porcupine.org", "wietse@porcupine.org", "wietse@porcupine.org"},
        {"\"wietse venema\"@porcupine.org (\"wietse ) venema\")", "wietse venema@porcupine.org, venema (\"wietse ), )",
         "\"wietse venema\"@porcupine.org, venema (\"wietse ), \")\""},
        {"\"wietse venema\" <wietse@porcupine.org>", "wietse venema <wietse@porcupine.org>",
         "\"wietse venema\" <wietse@porcupine.org>"},
        {"\"wietse venema\"@porcupine.org ( (\"wietse ) venema\") )",
         "wietse venema@porcupine.org) ( (\"wietse ) venema\")", "\"wietse venema\"@porcupine.org) ( (\"wietse ) venema\")"},
        {"wietse\\ venema@porcupine.org", "wietse venema@porcupine.org", "\"wietse venema\"@porcupine.org"},
        {"\"wietse venema", "wietse venema", "\"wietse venema\""},
        {"wietse@[stuff", "wietse@[stuff]", "wietse@[stuff]"},
        {"wietse@[\"stuff]", "wietse@[\"stuff]", "wietse@[\"stuff]"},
        {"named group: foo@bar, baz@barf;", "named group: foo@bar, baz@barf;", "named group: foo@bar, baz@barf;"},
        {"wietse@foo (wietse\tvenema)", "wietse@foo (wietse\tvenema)", "wietse@foo (wietse\tvenema)"},
    };
    for (const auto& c : cases) {
        auto list = parse_822_list(c.input);
        EXPECT_EQ(internalize_822(list), c.internal) << c.input;
        EXPECT_EQ(externalize_822(list, kTokStrTruncate), c.external) << c.input;
    }
}

TEST(AddressList, HeaderAddresses) {
    auto a = header_addresses("Joe <joe@x>, \"a b\"@y (c), group: m@z;, <>");
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].internal, "joe@x");
    EXPECT_EQ(a[1].internal, "a b@y");
    EXPECT_EQ(a[1].external, "\"a b\"@y");
    EXPECT_EQ(a[2].internal, "m@z");
    auto two = header_addresses("first last@x");  // recovery: two addresses
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two[0].internal, "first");
    EXPECT_EQ(two[1].internal, "last@x");
}

TEST(AddressList, RewriteHeader) {
    auto out = rewrite_header_addresses("Joe <joe>, ann (Ann)", [](const std::string& a) { return a + "@example.com"; },
                                        kTokStrNone);
    EXPECT_EQ(out, "Joe <joe@example.com>, ann@example.com (Ann)");
    auto folded = rewrite_header_addresses("a, b", [](const std::string& s) { return s; }, kTokStrLine);
    EXPECT_EQ(folded, "a,\nb");
}

TEST(AddressList, StripsTooManyComments) {
    std::string phrase(300, 'x');
    auto list = parse_822_list(phrase + " <a@b>");
    EXPECT_EQ(externalize_822(list, kTokStrTruncate), "<a@b>");
    EXPECT_EQ(externalize_822(list, kTokStrNone), phrase + " <a@b>");
}

TEST(AddressFold, Delimiters) {
    EXPECT_EQ(strip_address_extension("user+ext@x", "+").value(), "user@x");
    EXPECT_FALSE(strip_address_extension("+ext@x", "+"));
    EXPECT_FALSE(strip_address_extension("owner-list@x", "-"));
    EXPECT_FALSE(strip_address_extension("list-request@x", "-"));
    EXPECT_EQ(strip_address_extension("postmaster+x@y", "+").value(), "postmaster@y");
    EXPECT_FALSE(strip_address_extension("MAILER-DAEMON@y", "-"));
    EXPECT_EQ(strip_address_extension("a-b@x", "+-").value(), "a@x");
    EXPECT_EQ(fold_domain_part("User@EXAMPLE.com"), "User@example.com");
    auto s = split_address("a@b@c");
    EXPECT_EQ(s.local, "a@b");
    EXPECT_EQ(s.domain, "c");
}

// What trivial-rewrite's resolver accepted and refused, observed on the
// reference (compat-suite/rewrite): the checks are not inet_pton's.
TEST(AddressHostaddr, Ipv4) {
    EXPECT_TRUE(valid_ipv4_hostaddr("127.0.0.1", false));
    EXPECT_TRUE(valid_ipv4_hostaddr("010.0.0.1", false));  // leading zeros pass
    EXPECT_TRUE(valid_ipv4_hostaddr("0.0.0.0", false));
    EXPECT_FALSE(valid_ipv4_hostaddr("0.1.2.3", false));   // bad initial octet
    EXPECT_FALSE(valid_ipv4_hostaddr("999.1.1.1", false));
    EXPECT_FALSE(valid_ipv4_hostaddr("1.2.3", false));
    EXPECT_FALSE(valid_ipv4_hostaddr("1.2.3.", false));
    EXPECT_FALSE(valid_ipv4_hostaddr("text", false));
    EXPECT_FALSE(valid_ipv4_hostaddr("", false));
}

TEST(AddressHostaddr, Ipv6AndLiterals) {
    EXPECT_TRUE(valid_ipv6_hostaddr("::1", false));
    EXPECT_TRUE(valid_ipv6_hostaddr("2001:db8::1", false));
    EXPECT_TRUE(valid_ipv6_hostaddr("::ffff:127.0.0.1", false));
    EXPECT_FALSE(valid_ipv6_hostaddr("1:2:3:4:5:6:7:8:9", false));
    EXPECT_FALSE(valid_ipv6_hostaddr("12345::1", false));
    EXPECT_FALSE(valid_ipv6_hostaddr("1::2::3", false));
    EXPECT_FALSE(valid_ipv6_hostaddr(":1", false));
    EXPECT_TRUE(valid_mailhost_literal("[1.2.3.4]", false));
    EXPECT_TRUE(valid_mailhost_literal("[IPv6:::1]", false));
    EXPECT_TRUE(valid_mailhost_literal("[ipv6:::1]", false));
    EXPECT_FALSE(valid_mailhost_literal("[::1]", false));  // IPv6 needs its prefix
    EXPECT_FALSE(valid_mailhost_literal("[1.2.3.4", false));
    EXPECT_FALSE(valid_mailhost_literal("[1.2.3.4]x", false));
    EXPECT_FALSE(valid_mailhost_literal("[]", false));
    EXPECT_EQ(valid_mailhost_addr("IPv6:::1", false).value_or("-"), "::1");
    EXPECT_FALSE(valid_mailhost_addr("::1", false).has_value());
    EXPECT_TRUE(valid_hostaddr("::1", false));
    EXPECT_TRUE(valid_hostaddr("1.2.3.4", false));
}

TEST(AddressIdna, ToAscii) {
    EXPECT_EQ(idna_domain_to_ascii("b\xc3\xbc" "cher.example").value_or("-"), "xn--bcher-kva.example");
    EXPECT_EQ(idna_domain_to_ascii("\xef\xbc\xa1.example").value_or("-"), "a.example");  // fullwidth A maps
    EXPECT_FALSE(idna_domain_to_ascii("-\xc3\xa9t\xc3\xa9.example").has_value());
    EXPECT_FALSE(idna_domain_to_ascii("b\xfc" "cher.example").has_value());
    EXPECT_TRUE(valid_utf8_hostname(true, "b\xc3\xbc" "cher.example", false));
    EXPECT_FALSE(valid_utf8_hostname(false, "b\xc3\xbc" "cher.example", false));
    EXPECT_FALSE(valid_utf8_hostname(true, "", false));
    EXPECT_TRUE(valid_utf8_hostname(false, "example.com", false));
}

TEST(AddressSurrogate, MissingTableFailsEachLookup) {
    auto t = open_table_or_surrogate("hash:/nonexistent/pf-test-table", O_RDONLY, 0);
    ASSERT_TRUE(t.has_value());
    auto r = (*t)->lookup("key");
    EXPECT_TRUE(r.is_error());
    EXPECT_EQ(r.error().kind, pf::dict::Error::Kind::retry);
    EXPECT_FALSE((*t)->flags() & pf::dict::kFixed);
    EXPECT_FALSE(open_table_or_surrogate("notatable", O_RDONLY, 0).has_value());

    AddressMaps maps("transport_maps", "hash:/nonexistent/pf-test-table");
    EXPECT_TRUE(maps.search("a@b", false).is_error());
    AddressMaps shared("address_verify_transport_maps", maps);
    EXPECT_EQ(shared.title(), "address_verify_transport_maps");
    EXPECT_TRUE(shared.search("a@b", false).is_error());
}

TEST(AddressDomainList, UnicodeFoldingWithUtf8) {
    pf::dict::set_utf8_support(true);
    DomainList list("mydestination", "b\xc3\xbc" "cher.example", DomainList::Style::exact, false);
    EXPECT_EQ(list.match("B\xc3\x9c" "CHER.EXAMPLE"), DomainMatch::yes);
    pf::dict::set_utf8_support(false);
    DomainList ascii("mydestination", "b\xc3\xbc" "cher.example", DomainList::Style::exact, false);
    EXPECT_EQ(ascii.match("B\xc3\x9c" "CHER.EXAMPLE"), DomainMatch::no);
    EXPECT_EQ(ascii.match("B\xc3\xbc" "CHER.EXAMPLE"), DomainMatch::yes);
}

TEST(AddressDomainList, MissingTableIsAnError) {
    DomainList list("relay_domains", "hash:/nonexistent/pf-test-table", DomainList::Style::hostname, true);
    EXPECT_EQ(list.match("example.com"), DomainMatch::error);
}
