// Unit tests of the host name/address lists of smtpd's restrictions
// (daemon/smtpd/smtpd_check_namadr.h): networks, literal addresses, names
// with and without parent-domain style, negation and tables.
#include "daemon/smtpd/smtpd_check_namadr.h"

#include <gtest/gtest.h>

namespace pf::smtpd {
namespace {

using R = NamadrList::Result;

TEST(SmtpdCheckNamadr, NetworksAndAddresses) {
    NamadrList l("mynetworks", "127.0.0.0/8, [::1]/128 192.0.2.7 [198.51.100.9]", true);
    EXPECT_EQ(l.match("unknown", "127.1.2.3"), R::yes);
    EXPECT_EQ(l.match("unknown", "::1"), R::yes);
    EXPECT_EQ(l.match("unknown", "192.0.2.7"), R::yes);
    EXPECT_EQ(l.match("unknown", "198.51.100.9"), R::yes);
    EXPECT_EQ(l.match("unknown", "192.0.2.8"), R::no);
    EXPECT_EQ(l.match("unknown", "2001:db8::1"), R::no);
}

TEST(SmtpdCheckNamadr, NamesParentStyleAndNegation) {
    NamadrList parent("mynetworks", "!bad.example.com example.com", true);
    EXPECT_EQ(parent.match("mx.example.com", "192.0.2.1"), R::yes);
    EXPECT_EQ(parent.match("EXAMPLE.COM", "192.0.2.1"), R::yes);
    EXPECT_EQ(parent.match("x.bad.example.com", "192.0.2.1"), R::no);
    EXPECT_EQ(parent.match("notexample.com", "192.0.2.1"), R::no);
    NamadrList dotted("debug_peer_list", ".example.com", false);
    EXPECT_EQ(dotted.match("mx.example.com", "192.0.2.1"), R::yes);
    EXPECT_EQ(dotted.match("example.com", "192.0.2.1"), R::no);
}

TEST(SmtpdCheckNamadr, Tables) {
    NamadrList l("mynetworks", "inline:{192.0.2.5=ok, example.org=ok}", true);
    EXPECT_EQ(l.match("unknown", "192.0.2.5"), R::yes);
    EXPECT_EQ(l.match("a.b.example.org", "192.0.2.6"), R::yes);
    EXPECT_EQ(l.match("unknown", "192.0.2.6"), R::no);
}

}  // namespace
}  // namespace pf::smtpd
