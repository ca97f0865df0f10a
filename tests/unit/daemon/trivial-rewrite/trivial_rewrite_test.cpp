// trivial-rewrite's rewrite and resolve logic, table-driven, without the
// socket loop.
// The daemon's logic files are compiled in here (a daemon is not a library).
#include "daemon/trivial-rewrite/local_domain.cpp"
#include "daemon/trivial-rewrite/resolve.cpp"
#include "daemon/trivial-rewrite/rewrite.cpp"
#include "daemon/trivial-rewrite/settings.cpp"
#include "daemon/trivial-rewrite/transport.cpp"
#include "daemon/trivial-rewrite/trivial_rewrite.h"

#include "dict/dict_registry.h"
#include "dict/dict_watch.h"
#include "ipc/services.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>

using namespace pf::rewrite;
using namespace pf::ipc;

namespace {

RewriteSettings rewrite_settings() {
    RewriteSettings s;
    s.append_dot_mydomain = false;
    s.local = {"example.com", "example.com"};
    s.remote = {"", ""};
    return s;
}

std::unique_ptr<ResolveSettings> resolve_settings() {
    auto s = std::make_unique<ResolveSettings>();
    s->myhostname = "host.example.com";
    s->myorigin = "example.com";
    s->local = std::make_unique<LocalDomains>("host.example.com, localhost, example.com",
                                              std::vector<std::string>{"127.0.0.1"});
    s->virtual_alias_domains = std::make_unique<pf::mail::DomainList>("virtual_alias_domains", "valias.example",
                                                                      pf::mail::DomainList::Style::exact, false);
    s->virtual_mailbox_domains = std::make_unique<pf::mail::DomainList>("virtual_mailbox_domains", "vbox.example",
                                                                        pf::mail::DomainList::Style::exact, false);
    s->relay_domains = std::make_unique<pf::mail::DomainList>("relay_domains", "relay.example",
                                                              pf::mail::DomainList::Style::hostname, true);
    for (RouteSettings* r : {&s->regular, &s->verify}) {
        r->local_transport = "local:$myhostname";
        r->local_transport = "local";
        r->local_transport_name = "local_transport";
        r->virtual_transport = "virtual";
        r->relay_transport = "relay";
        r->default_transport = "smtp";
        r->default_transport_name = "default_transport";
    }
    return s;
}

}  // namespace

TEST(TrivialRewrite, RewriteRules) {
    auto s = rewrite_settings();
    struct Case { const char* rule; const char* in; const char* out; };
    const Case cases[] = {
        {"local", "user", "user@example.com"},
        {"local", "host!user", "user@host"},
        {"local", "user%host", "user@host"},
        {"local", "a%b%c", "a%b@c"},
        {"local", "@a,@b:user@c", "user@c"},
        {"local", "user@host.", "user@host"},
        {"local", "user@host..", "user@host.."},
        {"local", "\"\"", "\"\""},
        {"local", "@", "\"\""},
        {"local", "\"first last\"", "\"first last\"@example.com"},
        {"remote", "user", "user"},
        {"local", "user@[1.2.3.4]", "user@[1.2.3.4]"},
    };
    for (const auto& c : cases) EXPECT_EQ(rewrite_address(c.rule, c.in, s).value(), c.out) << c.in;
    EXPECT_FALSE(rewrite_address("bogus", "x", s));
    s.append_dot_mydomain = true;
    EXPECT_EQ(rewrite_address("local", "user@host", s).value(), "user@host.example.com");
    EXPECT_EQ(rewrite_address("local", "user@[host]", s).value(), "user@[host]");
    s.swap_bangpath = false;
    s.percent_hack = false;
    EXPECT_EQ(rewrite_address("local", "a!b", s).value(), "a!b@example.com");
}

TEST(TrivialRewrite, ResolveClasses) {
    auto rw = rewrite_settings();
    auto s = resolve_settings();
    struct Case {
        const char* addr;
        unsigned flags;
        const char* transport;
        const char* nexthop;
        const char* recipient;
    };
    const Case cases[] = {
        {"user@example.org", kResolveClassDefault, "smtp", "example.org", "user@example.org"},
        {"user@host.example.com", kResolveClassLocal, "local", "host.example.com", "user@host.example.com"},
        {"user", kResolveClassLocal, "local", "host.example.com", "user@host.example.com"},
        {"", kResolveClassLocal, "local", "host.example.com", "MAILER-DAEMON@host.example.com"},
        {"joe@valias.example", kResolveClassAlias, "error", "5.1.1 User unknown in virtual alias table",
         "joe@valias.example"},
        {"joe@vbox.example", kResolveClassVirtual, "virtual", "vbox.example", "joe@vbox.example"},
        {"joe@relay.example", kResolveClassRelay, "relay", "relay.example", "joe@relay.example"},
        {"joe@sub.relay.example", kResolveClassRelay, "relay", "sub.relay.example", "joe@sub.relay.example"},
        {"joe%relay.example@example.com", kResolveClassRelay, "relay", "relay.example", "joe@relay.example"},
        {"joe@[127.0.0.1]", kResolveClassLocal, "local", "[127.0.0.1]", "joe@[127.0.0.1]"},
        {"joe@[10.0.0.1]", kResolveClassDefault, "smtp", "[10.0.0.1]", "joe@[10.0.0.1]"},
        {"user@a.b@example.org", kResolveClassDefault | kResolveRouted, "smtp", "example.org", "user@a.b@example.org"},
        {"a@b@example.com", kResolveClassDefault, "smtp", "b", "a@b"},
    };
    for (const auto& c : cases) {
        auto r = resolve_address("", c.addr, false, *s, rw);
        EXPECT_EQ(r.flags, c.flags) << c.addr;
        EXPECT_EQ(r.transport, c.transport) << c.addr;
        EXPECT_EQ(r.nexthop, c.nexthop) << c.addr;
        EXPECT_EQ(r.recipient, c.recipient) << c.addr;
    }
    auto bad = resolve_address("", "user@bad_host!", false, *s, rw);
    EXPECT_TRUE(bad.flags & kResolveError);
    auto dash = resolve_address("", "-opt@example.org", false, *s, rw);
    EXPECT_TRUE(dash.flags & kResolveError);

    s->regular.relayhost = "[relay.host]:587";
    auto r = resolve_address("", "x@example.org", false, *s, rw);
    EXPECT_EQ(r.nexthop, "[relay.host]:587");
    auto v = resolve_address("", "x@example.org", true, *s, rw);  // verify has its own relayhost
    EXPECT_EQ(v.nexthop, "example.org");
    s->regular.default_transport = "smtp:[other]";
    r = resolve_address("", "x@example.org", false, *s, rw);
    EXPECT_EQ(r.transport, "smtp");
    EXPECT_EQ(r.nexthop, "[other]");
    s->regular.default_transport = "";
    r = resolve_address("", "x@example.org", false, *s, rw);
    EXPECT_TRUE(r.flags & kResolveFail);
}

TEST(TrivialRewrite, TransportMaps) {
    auto rw = rewrite_settings();
    auto s = resolve_settings();
    s->recipient_delimiter = "+";
    s->regular.transport_maps = std::make_unique<TransportMaps>(
        "transport_maps",
        "inline:{ joe@example.org=special:[h1], .sub.example.org=relay2:, example.net=error:gone, *=fallback: }",
        false);
    auto r = resolve_address("", "joe+x@example.org", false, *s, rw);
    EXPECT_EQ(r.transport, "special");
    EXPECT_EQ(r.nexthop, "[h1]");
    r = resolve_address("", "a@deep.sub.example.org", false, *s, rw);
    EXPECT_EQ(r.transport, "relay2");
    EXPECT_EQ(r.nexthop, "deep.sub.example.org");
    r = resolve_address("", "a@example.net", false, *s, rw);
    EXPECT_EQ(r.transport, "error");
    EXPECT_EQ(r.nexthop, "gone");
    r = resolve_address("", "a@elsewhere.org", false, *s, rw);
    EXPECT_EQ(r.transport, "fallback");
    EXPECT_EQ(r.nexthop, "elsewhere.org");
    r = resolve_address("", "a@valias.example", false, *s, rw);  // the alias class is never overridden
    EXPECT_EQ(r.transport, "error");
}

// The "*" entry is read once (at start-up, or on the first need) and kept;
// verify settings share the open tables under their own title.
TEST(TrivialRewrite, TransportWildcardCachedAndShared) {
    TransportMaps regular("transport_maps", "inline:{ *=fallback:[wild], example.net=relay: }", false);
    regular.init_wildcard();
    TransportMaps verify("address_verify_transport_maps", regular, false);
    std::string transport = "smtp", nexthop = "example.org";
    EXPECT_EQ(verify.lookup("a@example.org", "example.org", transport, nexthop, ""), TransportMaps::Outcome::found);
    EXPECT_EQ(transport, "fallback");
    EXPECT_EQ(nexthop, "[wild]");
    transport = "smtp";
    nexthop = "example.net";
    EXPECT_EQ(regular.lookup("a@example.net", "example.net", transport, nexthop, ""), TransportMaps::Outcome::found);
    EXPECT_EQ(transport, "relay");
    EXPECT_EQ(nexthop, "example.net");
}

TEST(TrivialRewrite, LiteralsOfOwnAddresses) {
    // IPv4 only: a v4-mapped IPv6 literal reads as its IPv4 address, and
    // the IPv4 syntax is the reference's (leading zeros allowed).
    LocalDomains v4("localhost", {"127.0.0.1"}, AF_INET);
    EXPECT_EQ(v4.is_local("[127.0.0.1]"), 1);
    EXPECT_EQ(v4.is_local("[127.000.000.001]"), 1);
    EXPECT_EQ(v4.is_local("[IPv6:::ffff:127.0.0.1]"), 1);
    EXPECT_EQ(v4.is_local("[::1]"), 0);
    EXPECT_EQ(v4.is_local("[0.1.2.3]"), 0);
    EXPECT_EQ(LocalDomains::address_family("ipv4"), AF_INET);
    EXPECT_EQ(LocalDomains::address_family("all"), AF_UNSPEC);
    EXPECT_EQ(LocalDomains::address_family("ipv6"), AF_INET6);
}

TEST(TrivialRewrite, Utf8DomainsNeedSmtputf8) {
    auto rw = rewrite_settings();
    auto s = resolve_settings();
    s->smtputf8 = true;
    auto r = resolve_address("", "user@b\xc3\xbc" "cher.example", false, *s, rw);
    EXPECT_FALSE(r.flags & kResolveError);
    EXPECT_EQ(r.transport, "smtp");
    s->smtputf8 = false;
    r = resolve_address("", "user@b\xc3\xbc" "cher.example", false, *s, rw);
    EXPECT_TRUE(r.flags & kResolveError);
}

// The tables the settings open are watched under the labels of the lists
// they come from (the reference's registry names); tables read into memory
// are not watched; a rebuilt or removed file is noticed.
TEST(TrivialRewrite, OpenedTablesAreWatched) {
    char dir[] = "/tmp/pf-rewrite-watch-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::string base = std::string(dir) + "/transport";
    {
        auto d = pf::dict::open("hash:" + base, O_RDWR | O_CREAT | O_TRUNC, pf::dict::kBulkUpdate);
        ASSERT_TRUE(d) << d.error().text;
        ASSERT_EQ((*d)->update("example.com", "smtp:x"), pf::dict::ChangeStatus::done);
        ASSERT_TRUE((*d)->close());
    }
    { std::ofstream(base) << "example.com smtp:y\n"; }
    timespec old[2] = {{1577836800, 0}, {1577836800, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (base + ".db").c_str(), old, 0), 0);
    const std::size_t before = pf::dict::watched_tables();
    {
        TransportMaps transport("transport_maps", "hash:" + base + ", texthash:" + base + ", inline:{a=b}", false);
        EXPECT_EQ(pf::dict::watched_tables(), before + 1);
        EXPECT_FALSE(pf::dict::changed_table().has_value());
        ASSERT_EQ(::utimensat(AT_FDCWD, (base + ".db").c_str(), nullptr, 0), 0);
        EXPECT_EQ(pf::dict::changed_table().value_or("-"), "hash:" + base + "(0,lock|no_regsub|fold_fix|utf8_request)");
    }
    EXPECT_EQ(pf::dict::watched_tables(), before);
    {
        pf::mail::DomainList relay("relay_domains", "!hash:" + base, pf::mail::DomainList::Style::hostname, true);
        EXPECT_EQ(pf::dict::watched_tables(), before + 1);
        EXPECT_FALSE(pf::dict::changed_table().has_value());
        ::unlink((base + ".db").c_str());
        EXPECT_EQ(pf::dict::changed_table().value_or("-"), "hash:" + base + "(0,lock|utf8_request)");
    }
    ::unlink(base.c_str());
    ::rmdir(dir);
}
