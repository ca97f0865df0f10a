// Host name/address lists shared by the daemons (mail/namadr_list.h), as
// qmqpd's qmqpd_authorized_clients and smtpd's mynetworks and
// debug_peer_list use them: addresses, networks, names with and without
// parent-domain style, negation, tables, and "no match" for a list that
// names nothing.
#include "mail/namadr_list.h"

#include <gtest/gtest.h>

namespace {

using pf::mail::NamadrList;

TEST(NamadrList, AddressesNetworksNames) {
    NamadrList list("qmqpd_authorized_clients", "192.0.2.1, 10.0.0.0/8, [2001:db8::1], lists.example.org", false);
    EXPECT_EQ(list.match("unknown", "192.0.2.1"), NamadrList::Result::yes);
    EXPECT_EQ(list.match("unknown", "10.1.2.3"), NamadrList::Result::yes);
    EXPECT_EQ(list.match("unknown", "2001:db8::1"), NamadrList::Result::yes);
    EXPECT_EQ(list.match("LISTS.example.org", "198.51.100.1"), NamadrList::Result::yes);
    EXPECT_EQ(list.match("localhost", "127.0.0.1"), NamadrList::Result::no);
}

TEST(NamadrList, NegationAndEmpty) {
    NamadrList list("qmqpd_authorized_clients", "!127.0.0.2, 127.0.0.0/8", false);
    EXPECT_EQ(list.match("localhost", "127.0.0.1"), NamadrList::Result::yes);
    EXPECT_EQ(list.match("localhost", "127.0.0.2"), NamadrList::Result::no);
    NamadrList empty("qmqpd_authorized_clients", "", false);
    EXPECT_EQ(empty.match("localhost", "127.0.0.1"), NamadrList::Result::no);
}

TEST(NamadrList, NetworksAndLiteralAddresses) {
    NamadrList l("mynetworks", "127.0.0.0/8, [::1]/128 192.0.2.7 [198.51.100.9]", true);
    EXPECT_EQ(l.match("unknown", "127.1.2.3"), NamadrList::Result::yes);
    EXPECT_EQ(l.match("unknown", "::1"), NamadrList::Result::yes);
    EXPECT_EQ(l.match("unknown", "192.0.2.7"), NamadrList::Result::yes);
    EXPECT_EQ(l.match("unknown", "198.51.100.9"), NamadrList::Result::yes);
    EXPECT_EQ(l.match("unknown", "192.0.2.8"), NamadrList::Result::no);
    EXPECT_EQ(l.match("unknown", "2001:db8::1"), NamadrList::Result::no);
}

TEST(NamadrList, NamesParentStyleAndNegation) {
    NamadrList parent("mynetworks", "!bad.example.com example.com", true);
    EXPECT_EQ(parent.match("mx.example.com", "192.0.2.1"), NamadrList::Result::yes);
    EXPECT_EQ(parent.match("EXAMPLE.COM", "192.0.2.1"), NamadrList::Result::yes);
    EXPECT_EQ(parent.match("x.bad.example.com", "192.0.2.1"), NamadrList::Result::no);
    EXPECT_EQ(parent.match("notexample.com", "192.0.2.1"), NamadrList::Result::no);
    NamadrList dotted("debug_peer_list", ".example.com", false);
    EXPECT_EQ(dotted.match("mx.example.com", "192.0.2.1"), NamadrList::Result::yes);
    EXPECT_EQ(dotted.match("example.com", "192.0.2.1"), NamadrList::Result::no);
}

TEST(NamadrList, Tables) {
    NamadrList l("mynetworks", "inline:{192.0.2.5=ok, example.org=ok}", true);
    EXPECT_EQ(l.match("unknown", "192.0.2.5"), NamadrList::Result::yes);
    EXPECT_EQ(l.match("a.b.example.org", "192.0.2.6"), NamadrList::Result::yes);
    EXPECT_EQ(l.match("unknown", "192.0.2.6"), NamadrList::Result::no);
}

}  // namespace
