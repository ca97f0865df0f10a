// The request message between postscreen and tlsproxy
// (ipc/tlsproxy_protocol.h): what one side encodes the other
// decodes, and requests that are incomplete, out of range or carry
// unprintable text are refused rather than logged or used.
#include "ipc/tlsproxy_protocol.h"

#include <gtest/gtest.h>

namespace pf::tlsproxy {
namespace {

Request sample() {
    Request r;
    r.endpoint = "[192.0.2.1]:25025";
    r.flags = kRoleServer;
    r.handshake_timeout = 300;
    r.session_timeout = 300;
    r.server_id = "smtpd";
    return r;
}

TEST(TlsproxyProtocol, RoundTripThroughTheWireFormat) {
    std::string wire = ipc::encode_attrs(encode_request(sample()));
    std::size_t used = 0;
    auto attrs = ipc::decode_attrs(wire, used);
    ASSERT_TRUE(attrs.has_value());
    EXPECT_EQ(used, wire.size());
    auto r = decode_request(*attrs);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->endpoint, "[192.0.2.1]:25025");
    EXPECT_EQ(r->flags, kRoleServer);
    EXPECT_EQ(r->handshake_timeout, 300);
    EXPECT_EQ(r->session_timeout, 300);
    EXPECT_EQ(r->server_id, "smtpd");
}

TEST(TlsproxyProtocol, Ipv6EndpointIsAccepted) {
    Request r = sample();
    r.endpoint = "[2001:db8::1]:587";
    auto d = decode_request(encode_request(r));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->endpoint, "[2001:db8::1]:587");
}

TEST(TlsproxyProtocol, MissingAttributesAreRefused) {
    for (const char* drop : {kAttrEndpoint, kAttrFlags, kAttrHandshakeTimeout, kAttrSessionTimeout, kAttrServerId}) {
        const ipc::AttrList full = encode_request(sample());
        ipc::AttrList a;
        for (const auto& [name, value] : full.items())
            if (name != drop) a.add(name, value);
        EXPECT_FALSE(decode_request(a).has_value()) << drop;
    }
}

TEST(TlsproxyProtocol, UnprintableOrOversizedTextIsRefused) {
    for (std::string bad : {std::string("[192.0.2.1]:25\n"), std::string("[a] b"), std::string(""),
                            std::string(1, '\0'), std::string("\x80x"), std::string(kMaxEndpoint + 1, 'a')}) {
        Request r = sample();
        r.endpoint = bad;
        EXPECT_FALSE(decode_request(encode_request(r)).has_value());
        r = sample();
        r.server_id = bad.size() > kMaxEndpoint ? std::string(kMaxServerId + 1, 's') : bad;
        EXPECT_FALSE(decode_request(encode_request(r)).has_value());
    }
}

TEST(TlsproxyProtocol, NumbersOutOfRangeAreRefused) {
    auto with = [](const char* name, const char* value) {
        const ipc::AttrList full = encode_request(sample());
        ipc::AttrList a;
        for (const auto& [n, v] : full.items()) a.add(n, n == name ? std::string(value) : v);
        return decode_request(a);
    };
    EXPECT_FALSE(with(kAttrFlags, "-1").has_value());
    EXPECT_FALSE(with(kAttrFlags, "1x").has_value());
    EXPECT_FALSE(with(kAttrFlags, "99999999999999999999999").has_value());
    EXPECT_FALSE(with(kAttrHandshakeTimeout, "86401").has_value());
    EXPECT_FALSE(with(kAttrSessionTimeout, "-5").has_value());
    EXPECT_FALSE(with(kAttrSessionTimeout, "").has_value());
    EXPECT_TRUE(with(kAttrHandshakeTimeout, "0").has_value());
    EXPECT_TRUE(with(kAttrFlags, "2").has_value());  // the client role: decoded, refused later
}

}  // namespace
}  // namespace pf::tlsproxy
