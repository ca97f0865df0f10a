// Unit tests for the src/mail pieces the cleanup daemon uses: the header
// table, check actions, masquerading, address lookups, header dates.
#include "dict/dict_registry.h"
#include "mail/header_action.h"
#include "mail/header_opts.h"
#include "mail/mail_addr_find.h"
#include "mail/mail_date.h"
#include "mail/maps.h"
#include "mail/masquerade.h"

#include <cstdlib>
#include <gtest/gtest.h>

namespace pf::mail {
namespace {

TEST(CleanupHeaderOpts, KnownHeadersAndDropList) {
    HeaderOptsTable t;
    const HeaderOpts* from = t.find_header("FROM : joe");
    ASSERT_NE(from, nullptr);
    EXPECT_EQ(from->type, HeaderType::from);
    EXPECT_TRUE(from->flags & kHdrSender);
    EXPECT_FALSE(from->flags & kHdrDrop);
    ASSERT_NE(t.find_name("bcc"), nullptr);
    EXPECT_TRUE(t.find_name("bcc")->flags & kHdrDrop);
    EXPECT_TRUE(t.find_name("Return-Path")->flags & kHdrDrop);
    EXPECT_TRUE(t.find_name("Content-Type")->flags & kHdrMime);
    EXPECT_TRUE(t.find_name("Resent-To")->flags & kHdrResent);
    EXPECT_EQ(t.find_header("X-Other: 1"), nullptr);
    EXPECT_EQ(t.find_header("not a header"), nullptr);
    HeaderOptsTable custom("x-secret");
    EXPECT_FALSE(custom.find_name("bcc")->flags & kHdrDrop);
    ASSERT_NE(custom.find_name("X-Secret"), nullptr);
    EXPECT_TRUE(custom.find_name("X-Secret")->flags & kHdrDrop);
}

TEST(CleanupHeaderAction, ParsesCommandAndText) {
    auto a = parse_check_action("prepend   X-A: b c");
    EXPECT_EQ(a.action, CheckAction::prepend);
    EXPECT_EQ(a.text, "X-A: b c");
    EXPECT_EQ(parse_check_action("REJECT").action, CheckAction::reject);
    EXPECT_EQ(parse_check_action("REJECT").text, "");
    EXPECT_EQ(parse_check_action("dunno").action, CheckAction::dunno);
    EXPECT_EQ(parse_check_action("FROBNICATE x").action, CheckAction::unknown);
    EXPECT_TRUE(is_header_text("X-A: b"));
    EXPECT_FALSE(is_header_text("X A: b"));
}

TEST(CleanupMasquerade, ParentDomainsExclusionsAndExceptions) {
    Masquerade m("!sub.example.com, example.com", [](std::string_view l) { return l == "root"; });
    std::string a = "joe@host.example.com";
    EXPECT_TRUE(m.apply(a));
    EXPECT_EQ(a, "joe@example.com");
    std::string same = "joe@example.com";
    EXPECT_FALSE(m.apply(same));
    std::string excluded = "joe@a.sub.example.com";
    EXPECT_FALSE(m.apply(excluded));
    std::string root = "root@host.example.com";
    EXPECT_FALSE(m.apply(root));
    std::string other = "joe@example.org";
    EXPECT_FALSE(m.apply(other));
    std::string bare = "joe";
    EXPECT_FALSE(m.apply(bare));
}

TEST(CleanupMailAddrFind, SearchOrderAndExtensions) {
    auto maps = Maps::open("canonical_maps",
                           "inline:{ {joe@example.com = jj@example.net}, {bob = robert@example.org}, "
                           "{@old.example = @new.example} }",
                           dict::kFoldFixed);
    ASSERT_TRUE(maps.has_value()) << maps.error();
    AddrFindContext ctx;
    ctx.recipient_delimiter = "+";
    ctx.myorigin = "host.example.com";
    auto r = mail_addr_find(*maps, "Joe+list@Example.COM", ctx);
    EXPECT_EQ(r.status, AddrFindResult::Status::found);
    EXPECT_EQ(r.value, "jj@example.net");
    EXPECT_EQ(r.extension, "+list");
    EXPECT_EQ(mail_addr_find(*maps, "bob@host.example.com", ctx).value, "robert@example.org");
    EXPECT_EQ(mail_addr_find(*maps, "bob@elsewhere.example", ctx).status, AddrFindResult::Status::not_found);
    bool error = true;
    auto list = mail_addr_map(*maps, "joe+list@example.com", true, ctx, {}, &error);
    ASSERT_TRUE(list.has_value());
    EXPECT_FALSE(error);
    EXPECT_EQ(list->front(), "jj+list@example.net");
    auto domain = mail_addr_map(*maps, "ann@old.example", false, ctx, {}, &error);
    ASSERT_TRUE(domain.has_value());
    EXPECT_EQ(domain->front(), "ann@new.example");
}

TEST(CleanupMailDate, ReferenceFormatInUtc) {
    const char* old = std::getenv("TZ");
    std::string saved = old ? old : "";
    setenv("TZ", "UTC", 1);
    tzset();
    EXPECT_EQ(mail_date(1795836546), "Sat, 28 Nov 2026 03:29:06 +0000 (UTC)");
    EXPECT_EQ(mail_date(0), "Thu,  1 Jan 1970 00:00:00 +0000 (UTC)");
    if (old) setenv("TZ", saved.c_str(), 1);
    else unsetenv("TZ");
    tzset();
}

}  // namespace
}  // namespace pf::mail
